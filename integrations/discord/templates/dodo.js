// Dodo Payments -> Discord: payments, refunds, disputes and subscription
// changes as one embed each. Amounts are formatted with formatAmount, which
// knows each currency's decimals: "29.99 USD", "4,500 JPY", "12.500 KWD".
// hookshift's own alerts (hookshift.* operational events) are rendered too:
// what failed, why, how many, and a console link when one is configured.
// Other event types are skipped.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  // Discord markdown: escape it in names so "*" or "`" show as typed.
  const esc = (s) => String(s ?? '').replace(/[\\*_~`|>#\[\]()]/g, '\\$&');
  if (String(type).startsWith('hookshift.')) return alert(webhook, esc);
  const who = esc(data?.customer?.name || data?.customer?.email || data?.customer?.customer_id || 'A customer');
  const GREEN = 0x2eb67d, RED = 0xe01e5a, YELLOW = 0xecb22e, BLUE = 0x36c5f0;

  let title, description, color;
  const fields = [];
  if (type === 'payment.succeeded') {
    title = 'Payment succeeded';
    description = `${who} paid **${formatAmount(data.total_amount, data.currency)}**`;
    color = GREEN;
  } else if (type === 'payment.failed') {
    title = 'Payment failed';
    description = `Payment of **${formatAmount(data.total_amount, data.currency)}** by ${who} failed`;
    if (data.error_message) fields.push({ name: 'Reason', value: esc(data.error_message) });
    color = RED;
  } else if (type === 'refund.succeeded' || type === 'refund.failed') {
    const amount = data.amount == null ? 'a refund' : `**${formatAmount(data.amount, data.currency)}**`;
    title = type === 'refund.succeeded' ? `Refund${data.is_partial ? ' (partial)' : ''}` : 'Refund failed';
    description = type === 'refund.succeeded' ? `Refunded ${amount} to ${who}` : `Refund of ${amount} to ${who} failed`;
    if (data.reason) fields.push({ name: 'Reason', value: esc(data.reason) });
    color = type === 'refund.succeeded' ? YELLOW : RED;
  } else if (type.startsWith('dispute.')) {
    const what = type.slice('dispute.'.length);
    title = `Dispute ${what}`;
    description = `Dispute for **${formatAmount(data.amount, data.currency)}** from ${who}`;
    if (data.remarks) fields.push({ name: 'Remarks', value: esc(data.remarks) });
    color = what === 'won' ? GREEN : RED;
  } else if (type.startsWith('subscription.')) {
    const what = type.slice('subscription.'.length).replace(/_/g, ' ');
    const n = data.payment_frequency_count;
    const unit = String(data.payment_frequency_interval ?? '').toLowerCase();
    title = `Subscription ${what}`;
    description = `${who}: **${formatAmount(data.recurring_pre_tax_amount, data.currency)}** every ${n > 1 ? `${n} ${unit}s` : unit}`;
    if (data.next_billing_date && !['subscription.cancelled', 'subscription.expired'].includes(type)) {
      fields.push({ name: 'Next billing', value: data.next_billing_date.slice(0, 10), inline: true });
    }
    color = ['subscription.cancelled', 'subscription.failed', 'subscription.expired', 'subscription.on_hold'].includes(type) ? RED : BLUE;
  } else {
    return null;
  }
  const id = data.payment_id ?? data.refund_id ?? data.dispute_id ?? data.subscription_id;
  if (id) fields.push({ name: 'ID', value: `\`${id}\``, inline: true });

  webhook.payload = {
    content: `${title}: ${description}`,
    embeds: [{ title, description, color, fields, footer: { text: type }, timestamp: timestamp ? new Date(timestamp).toISOString() : undefined }],
    // Never let a customer-supplied name ping @everyone or a role.
    allowed_mentions: { parse: [] },
  };
  return webhook;
}

// alert renders an operational event: GET|PUT /v1/alerts chooses where they go.
function alert(webhook, esc) {
  const { type, data, timestamp } = webhook.payload;
  const name = `**${esc(data.destination_name || data.destination_id)}**`;
  const n = data.count || 0;
  const many = (k, one, more) => `${k} ${k === 1 ? one : more}`;
  const RED = 0xe01e5a, YELLOW = 0xecb22e, GREEN = 0x2eb67d;
  let title, description, color;
  if (type === 'hookshift.delivery.dead_lettered') {
    title = 'Delivery failed';
    description = n > 0 ? `${many(n, 'more delivery', 'more deliveries')} to ${name} failed for good` : `A delivery to ${name} failed for good`;
    color = YELLOW;
  } else if (type === 'hookshift.destination.disabled') {
    title = 'Destination disabled';
    description = `${name} was disabled: nothing more is sent to it until it is enabled again`;
    color = RED;
  } else if (type === 'hookshift.destination.circuit_opened') {
    title = 'Deliveries paused';
    description = `Deliveries to ${name} are paused: it keeps failing`;
    color = RED;
  } else if (type === 'hookshift.destination.recovered') {
    title = 'Destination recovered';
    description = `${name} is receiving deliveries again`;
    color = GREEN;
  } else {
    return null;
  }
  const fields = [];
  if (data.reason) fields.push({ name: n > 0 ? 'Last reason' : 'Reason', value: esc(data.reason).slice(0, 1024) });
  if (n > 0 && type !== 'hookshift.delivery.dead_lettered') fields.push({ name: 'Since the last alert', value: many(n, 'more time', 'more times'), inline: true });
  fields.push({ name: 'Destination', value: `\`${data.destination_id}\``, inline: true });
  if (data.event_id) fields.push({ name: 'Event', value: `\`${data.event_id}\``, inline: true });
  if (data.console_url) description += `\n[Open in the console](${data.console_url})`;
  webhook.payload = {
    content: `${title}: ${description.split('\n')[0]}`,
    embeds: [{ title, description, color, url: data.console_url || undefined, fields, footer: { text: type }, timestamp: timestamp ? new Date(timestamp).toISOString() : undefined }],
    allowed_mentions: { parse: [] },
  };
  return webhook;
}
