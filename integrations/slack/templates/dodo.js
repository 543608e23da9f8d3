// Dodo Payments -> Slack: payments, refunds, disputes and subscription
// changes as one message each. Amounts are formatted with formatAmount, which
// knows each currency's decimals: "29.99 USD", "4,500 JPY", "12.500 KWD".
// hookshift's own alerts (hookshift.* operational events) are rendered too:
// what failed, why, how many, and a console link when one is configured.
// Other event types are skipped.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  // Slack mrkdwn: &, < and > must be escaped, which also stops a customer
  // name from pinging a channel with <!channel>.
  const esc = (s) => String(s ?? '').replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  if (String(type).startsWith('hookshift.')) return alert(webhook, esc);
  const who = esc(data?.customer?.name || data?.customer?.email || data?.customer?.customer_id || 'A customer');
  const every = (d) => `${d.payment_frequency_count > 1 ? d.payment_frequency_count + ' ' : ''}${String(d.payment_frequency_interval ?? '').toLowerCase()}${d.payment_frequency_count > 1 ? 's' : ''}`;
  const plan = (d) => `${formatAmount(d.recurring_pre_tax_amount, d.currency)} every ${every(d)}`;

  let text;
  let details = [];
  if (type === 'payment.succeeded') {
    text = `:moneybag: ${who} paid ${formatAmount(data.total_amount, data.currency)}`;
    if (data.subscription_id) details.push(`subscription ${data.subscription_id}`);
  } else if (type === 'payment.failed') {
    text = `:x: Payment of ${formatAmount(data.total_amount, data.currency)} by ${who} failed`;
    if (data.error_message) details.push(esc(data.error_message));
  } else if (type === 'refund.succeeded' || type === 'refund.failed') {
    const amount = data.amount == null ? 'a refund' : formatAmount(data.amount, data.currency);
    text = type === 'refund.succeeded'
      ? `:leftwards_arrow_with_hook: Refunded ${amount} to ${who}${data.is_partial ? ' (partial)' : ''}`
      : `:warning: Refund of ${amount} to ${who} failed`;
    if (data.reason) details.push(esc(data.reason));
  } else if (type.startsWith('dispute.')) {
    const what = type.slice('dispute.'.length);
    const icon = what === 'won' ? ':white_check_mark:' : what === 'lost' ? ':rotating_light:' : ':warning:';
    text = `${icon} Dispute ${what} for ${formatAmount(data.amount, data.currency)} from ${who}`;
    if (data.remarks) details.push(esc(data.remarks));
  } else if (type.startsWith('subscription.')) {
    const what = type.slice('subscription.'.length).replace(/_/g, ' ');
    text = `:repeat: ${who}'s subscription ${what}: ${plan(data)}`;
    if (type === 'subscription.active' && data.trial_period_days > 0) details.push(`${data.trial_period_days}-day trial`);
    if (data.next_billing_date && !['subscription.cancelled', 'subscription.expired'].includes(type)) {
      details.push(`next billing ${data.next_billing_date.slice(0, 10)}`);
    }
  } else {
    return null;
  }

  const id = data.payment_id ?? data.refund_id ?? data.dispute_id ?? data.subscription_id;
  const ids = [data.dispute_id, data.refund_id, data.payment_id, data.subscription_id].filter((v, i, a) => v && a.indexOf(v) === i && v !== id);
  webhook.payload = {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: [text, ...details.map((d) => `_${d}_`)].join('\n') } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: [`\`${type}\``, id && `\`${esc(id)}\``, ...ids.map((v) => `\`${esc(v)}\``), timestamp && new Date(timestamp).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'].filter(Boolean).join(' · ') }],
      },
    ],
  };
  return webhook;
}

// alert renders an operational event: GET|PUT /v1/alerts chooses where they go.
function alert(webhook, esc) {
  const { type, data, timestamp } = webhook.payload;
  const n = data.count || 0;
  const many = (k, one, more) => `${k} ${k === 1 ? one : more}`;
  // says(name) is the headline with the destination's name as given.
  let icon, says;
  if (type === 'hookshift.delivery.dead_lettered') {
    icon = ':warning:';
    says = (name) => (n > 0 ? `${many(n, 'more delivery', 'more deliveries')} to ${name} failed for good` : `A delivery to ${name} failed for good`);
  } else if (type === 'hookshift.destination.disabled') {
    icon = ':no_entry:';
    says = (name) => `${name} was disabled: nothing more is sent to it until it is enabled again`;
  } else if (type === 'hookshift.destination.circuit_opened') {
    icon = ':rotating_light:';
    says = (name) => `Deliveries to ${name} are paused: it keeps failing`;
  } else if (type === 'hookshift.destination.recovered') {
    icon = ':white_check_mark:';
    says = (name) => `${name} is receiving deliveries again`;
  } else {
    return null;
  }
  const name = esc(data.destination_name || data.destination_id);
  const details = [];
  if (data.reason) details.push(`${n > 0 ? 'Last reason' : 'Reason'}: ${esc(data.reason)}`);
  if (n > 0 && type !== 'hookshift.delivery.dead_lettered') details.push(`${many(n, 'more time', 'more times')} since the last alert`);
  if (data.console_url) details.push(`<${esc(data.console_url)}|Open in the console>`);
  webhook.payload = {
    text: says(name),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: [`${icon} ${says(`*${name}*`)}`, ...details].join('\n') } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: [`\`${type}\``, `\`${esc(data.destination_id)}\``, data.event_id && `\`${esc(data.event_id)}\``, timestamp && new Date(timestamp).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'].filter(Boolean).join(' · ') }],
      },
    ],
  };
  return webhook;
}
