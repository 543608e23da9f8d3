// Dodo Payments -> SendGrid Mail Send (POST /v3/mail/send, Bearer API key):
// one email per event to the team address(es) of the destination's config.
//
// hookshift gives this script the config's sender and recipients as
// webhook.env.sendgrid_from_email, sendgrid_from_name and sendgrid_to (a
// comma-separated list). Amounts are formatted by formatAmount from the
// ISO 4217 table ("29.99 USD", "4500 JPY", "12.500 KWD"). Customer text is
// HTML-escaped in the HTML part. The customer's email and id are in the
// message and in custom_args, so SendGrid's activity feed finds it by
// customer.
//
// SendGrid's Mail Send has no idempotency key: a retry after a timeout may
// send the email twice. X-Message-Id in SendGrid's answer is what to search
// for in its activity feed.
//
// hookshift's own alerts (hookshift.* operational events) are rendered too:
// what failed, why, how many, and a console link when one is configured.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const env = webhook.env;
  if (String(type).startsWith('hookshift.')) return alert(webhook, env);
  const customer = data?.customer ?? {};
  const who = customer.name ? `${customer.name} <${customer.email}>` : (customer.email ?? customer.customer_id ?? 'a customer');
  const amount = (minor) => (minor == null ? 'an unknown amount' : formatAmount(minor, data.currency));

  let subject;
  const lines = [];
  switch (type) {
    case 'payment.succeeded':
      subject = `Payment received: ${amount(data.total_amount)} from ${customer.name ?? customer.email ?? 'a customer'}`;
      lines.push(`Payment ${data.payment_id} of ${amount(data.total_amount)} succeeded.`);
      if (data.subscription_id) lines.push(`Subscription: ${data.subscription_id}`);
      break;
    case 'payment.failed':
      subject = `Payment failed: ${amount(data.total_amount)} from ${customer.name ?? customer.email ?? 'a customer'}`;
      lines.push(`Payment ${data.payment_id} of ${amount(data.total_amount)} failed: ${data.error_message ?? data.error_code ?? 'no reason given'}.`);
      break;
    case 'refund.succeeded':
    case 'refund.failed':
      subject = `Refund ${type === 'refund.succeeded' ? 'issued' : 'failed'}: ${amount(data.amount)}`;
      lines.push(`Refund ${data.refund_id} of ${amount(data.amount)} for payment ${data.payment_id}${data.reason ? `: ${data.reason}` : ''}.`);
      break;
    default:
      if (type.startsWith('dispute.')) {
        subject = `Dispute ${type.slice(8)}: ${data.amount != null ? amount(data.amount) : ''} on ${data.payment_id}`;
        lines.push(`Dispute ${data.dispute_id} on payment ${data.payment_id}: ${data.dispute_status ?? type.slice(8)}.`);
      } else if (type.startsWith('subscription.')) {
        subject = `Subscription ${type.slice(13).replace('_', ' ')}: ${data.subscription_id}`;
        lines.push(`Subscription ${data.subscription_id} (product ${data.product_id}) is now ${data.status}.`);
        if (data.recurring_pre_tax_amount != null) lines.push(`Plan: ${amount(data.recurring_pre_tax_amount)} every ${data.payment_frequency_count ?? 1} ${String(data.payment_frequency_interval ?? '').toLowerCase()}`);
      } else {
        return null;
      }
  }
  lines.push(`Customer: ${who}${customer.customer_id ? ` (${customer.customer_id})` : ''}`);
  lines.push(`Event: ${type} at ${timestamp}`);

  // from and to are required config fields; without them (a test run with
  // no destination) SendGrid refuses the request and says which is missing.
  const to = String(env.sendgrid_to ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  webhook.payload = {
    personalizations: [{ to: to.map((email) => ({ email })) }],
    from: env.sendgrid_from_name ? { email: env.sendgrid_from_email, name: env.sendgrid_from_name } : { email: env.sendgrid_from_email },
    subject,
    content: [
      { type: 'text/plain', value: lines.join('\n') },
      { type: 'text/html', value: lines.map((l) => `<p>${esc(l)}</p>`).join('') },
    ],
    custom_args: { event_type: type, customer_id: customer.customer_id ?? '', customer_email: customer.email ?? '' },
  };
  return webhook;
}

// alert renders an operational event as an email: GET|PUT /v1/alerts
// chooses where they go.
function alert(webhook, env) {
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
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const to = String(env.sendgrid_to ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const text = [line, '', ...rows.map(([k, v]) => `${k}: ${v}`), ...(data.console_url ? ['', `Open in the console: ${data.console_url}`] : [])];
  webhook.payload = {
    personalizations: [{ to: to.map((email) => ({ email })) }],
    from: env.sendgrid_from_name ? { email: env.sendgrid_from_email, name: env.sendgrid_from_name } : { email: env.sendgrid_from_email },
    subject: `hookshift: ${line.replace(/\.$/, '')}`,
    content: [
      { type: 'text/plain', value: text.join('\n') },
      { type: 'text/html', value: `<p>${esc(line)}</p>` + rows.map(([k, v]) => `<p><b>${esc(k)}</b>: ${esc(v)}</p>`).join('') + (data.console_url ? `<p><a href="${esc(data.console_url)}">Open in the console</a></p>` : '') },
    ],
    custom_args: { event_type: type, destination_id: data.destination_id },
  };
  return webhook;
}
