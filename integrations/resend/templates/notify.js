// Dodo Payments -> Resend (POST /emails): one email to your team per
// payment, refund, dispute or subscription change.
//
// from and to come from the destination's config (webhook.env.from and
// webhook.env.to; an env variable of the same name overrides them). to may
// list several addresses separated by commas. Amounts go through
// formatAmount: "29.99 USD", "4,500 JPY", "12.500 KWD". Every value that
// comes from the event is HTML-escaped.
// hookshift's own alerts (hookshift.* operational events) are rendered too:
// what failed, why, how many, and a console link when one is configured.
// Other event types are skipped.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const { from, to } = webhook.env;
  if (!from || !to) {
    throw new Error('set config.from and config.to on this Resend destination');
  }
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);
  if (String(type).startsWith('hookshift.')) return alert(webhook, esc, from, to);
  const c = data?.customer;
  const who = c?.name || c?.email || c?.customer_id || 'a customer';
  const every = (d) => `${d.payment_frequency_count > 1 ? d.payment_frequency_count + ' ' : ''}${String(d.payment_frequency_interval ?? '').toLowerCase()}${d.payment_frequency_count > 1 ? 's' : ''}`;

  let subject, line;
  const rows = [];
  if (type === 'payment.succeeded') {
    subject = `Payment succeeded: ${formatAmount(data.total_amount, data.currency)} from ${who}`;
    line = `${who} paid ${formatAmount(data.total_amount, data.currency)}.`;
    if (data.subscription_id) rows.push(['Subscription', data.subscription_id]);
  } else if (type === 'payment.failed') {
    subject = `Payment failed: ${formatAmount(data.total_amount, data.currency)} from ${who}`;
    line = `A payment of ${formatAmount(data.total_amount, data.currency)} by ${who} failed.`;
    if (data.error_message) rows.push(['Reason', data.error_message]);
  } else if (type === 'refund.succeeded' || type === 'refund.failed') {
    const amount = data.amount == null ? 'a refund' : formatAmount(data.amount, data.currency);
    subject = type === 'refund.succeeded' ? `Refunded ${amount} to ${who}` : `Refund failed: ${amount} to ${who}`;
    line = type === 'refund.succeeded' ? `${amount} was refunded to ${who}${data.is_partial ? ' (partial refund)' : ''}.` : `The refund of ${amount} to ${who} failed.`;
    if (data.reason) rows.push(['Reason', data.reason]);
    if (data.payment_id) rows.push(['Payment', data.payment_id]);
  } else if (type.startsWith('dispute.')) {
    const what = type.slice('dispute.'.length);
    subject = `Dispute ${what}: ${formatAmount(data.amount, data.currency)} from ${who}`;
    line = `A dispute for ${formatAmount(data.amount, data.currency)} from ${who} is ${what}.`;
    if (data.remarks) rows.push(['Remarks', data.remarks]);
    if (data.payment_id) rows.push(['Payment', data.payment_id]);
  } else if (type.startsWith('subscription.')) {
    const what = type.slice('subscription.'.length).replace(/_/g, ' ');
    subject = `Subscription ${what}: ${who}, ${formatAmount(data.recurring_pre_tax_amount, data.currency)} every ${every(data)}`;
    line = `${who}'s subscription is ${what}: ${formatAmount(data.recurring_pre_tax_amount, data.currency)} every ${every(data)}.`;
    if (data.next_billing_date && !['subscription.cancelled', 'subscription.expired'].includes(type)) rows.push(['Next billing', data.next_billing_date.slice(0, 10)]);
  } else {
    return null;
  }
  if (c?.email) rows.push(['Customer', c.email]);
  const id = data.refund_id ?? data.dispute_id ?? data.payment_id ?? data.subscription_id;
  if (id) rows.unshift(['ID', id]);
  rows.push(['Event', type]);
  if (timestamp) rows.push(['Time', new Date(timestamp).toISOString().slice(0, 16).replace('T', ' ') + ' UTC']);

  webhook.payload = {
    from,
    to: to.split(',').map((a) => a.trim()).filter(Boolean),
    subject,
    html: `<p>${esc(line)}</p><table cellpadding="4">${rows.map(([k, v]) => `<tr><td><b>${esc(k)}</b></td><td>${esc(v)}</td></tr>`).join('')}</table>`,
    text: [line, '', ...rows.map(([k, v]) => `${k}: ${v}`)].join('\n'),
    tags: [{ name: 'event', value: type.replace(/[^A-Za-z0-9_-]/g, '_') }],
  };
  return webhook;
}

// alert renders an operational event as an email: GET|PUT /v1/alerts
// chooses where they go.
function alert(webhook, esc, from, to) {
  const { type, data, timestamp } = webhook.payload;
  const n = data.count || 0;
  const many = (k, one, more) => `${k} ${k === 1 ? one : more}`;
  const name = data.destination_name || data.destination_id;
  let title, line;
  if (type === 'hookshift.delivery.dead_lettered') {
    title = 'Delivery failed';
    line = n > 0 ? `${many(n, 'more delivery', 'more deliveries')} to ${name} failed for good.` : `A delivery to ${name} failed for good.`;
  } else if (type === 'hookshift.destination.disabled') {
    title = 'Destination disabled';
    line = `${name} was disabled: nothing more is sent to it until it is enabled again.`;
  } else if (type === 'hookshift.destination.circuit_opened') {
    title = 'Deliveries paused';
    line = `Deliveries to ${name} are paused: it keeps failing.`;
  } else if (type === 'hookshift.destination.recovered') {
    title = 'Destination recovered';
    line = `${name} is receiving deliveries again.`;
  } else {
    return null;
  }
  const rows = [];
  if (data.reason) rows.push([n > 0 ? 'Last reason' : 'Reason', data.reason]);
  if (n > 0 && type !== 'hookshift.delivery.dead_lettered') rows.push(['Since the last alert', many(n, 'more time', 'more times')]);
  rows.push(['Destination', data.destination_id]);
  if (data.event_id) rows.push(['Event', data.event_id]);
  rows.push(['Alert', type]);
  if (timestamp) rows.push(['Time', new Date(timestamp).toISOString().slice(0, 16).replace('T', ' ') + ' UTC']);
  const link = data.console_url ? `<p><a href="${esc(data.console_url)}">Open in the console</a></p>` : '';
  webhook.payload = {
    from,
    to: to.split(',').map((a) => a.trim()).filter(Boolean),
    subject: `hookshift: ${line.replace(/\.$/, '')}`,
    html: `<p>${esc(line)}</p><table cellpadding="4">${rows.map(([k, v]) => `<tr><td><b>${esc(k)}</b></td><td>${esc(v)}</td></tr>`).join('')}</table>${link}`,
    text: [line, '', ...rows.map(([k, v]) => `${k}: ${v}`), ...(data.console_url ? ['', `Open in the console: ${data.console_url}`] : [])].join('\n'),
    tags: [{ name: 'event', value: type.replace(/[^A-Za-z0-9_-]/g, '_') }],
  };
  return webhook;
}
