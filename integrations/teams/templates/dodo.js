// Dodo Payments -> Microsoft Teams: one Adaptive Card per payment, refund,
// dispute or subscription change. The body is the message envelope both a
// Teams workflow ("Post to a channel when a webhook request is received")
// and a legacy Incoming Webhook accept: {type: "message", attachments: [an
// Adaptive Card]}. Amounts go through formatAmount, which knows each
// currency's decimals: "29.99 USD", "4,500 JPY", "12.500 KWD".
// hookshift's own alerts (hookshift.* operational events) are rendered too:
// what failed, why, how many, and a console link when one is configured.
// Other event types are skipped.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  // Adaptive Card TextBlocks render a Markdown subset: escape it in names.
  const esc = (s) => String(s ?? '').replace(/[\\*_`\[\]()#>~]/g, '\\$&');
  if (String(type).startsWith('hookshift.')) return alert(webhook, esc);
  const c = data?.customer;
  const who = esc(c?.name || c?.email || c?.customer_id || 'A customer');
  const every = (d) => `${d.payment_frequency_count > 1 ? d.payment_frequency_count + ' ' : ''}${String(d.payment_frequency_interval ?? '').toLowerCase()}${d.payment_frequency_count > 1 ? 's' : ''}`;

  let title, text, color;
  const facts = [];
  if (type === 'payment.succeeded') {
    title = 'Payment succeeded';
    text = `${who} paid **${formatAmount(data.total_amount, data.currency)}**`;
    color = 'Good';
    if (data.subscription_id) facts.push(['Subscription', data.subscription_id]);
  } else if (type === 'payment.failed') {
    title = 'Payment failed';
    text = `Payment of **${formatAmount(data.total_amount, data.currency)}** by ${who} failed`;
    color = 'Attention';
    if (data.error_message) facts.push(['Reason', data.error_message]);
  } else if (type === 'refund.succeeded' || type === 'refund.failed') {
    const amount = data.amount == null ? 'a refund' : `**${formatAmount(data.amount, data.currency)}**`;
    title = type === 'refund.succeeded' ? `Refund${data.is_partial ? ' (partial)' : ''}` : 'Refund failed';
    text = type === 'refund.succeeded' ? `Refunded ${amount} to ${who}` : `Refund of ${amount} to ${who} failed`;
    color = type === 'refund.succeeded' ? 'Warning' : 'Attention';
    if (data.reason) facts.push(['Reason', data.reason]);
  } else if (type.startsWith('dispute.')) {
    const what = type.slice('dispute.'.length);
    title = `Dispute ${what}`;
    text = `Dispute for **${formatAmount(data.amount, data.currency)}** from ${who}`;
    color = what === 'won' ? 'Good' : what === 'lost' ? 'Attention' : 'Warning';
    if (data.remarks) facts.push(['Remarks', data.remarks]);
  } else if (type.startsWith('subscription.')) {
    const what = type.slice('subscription.'.length).replace(/_/g, ' ');
    title = `Subscription ${what}`;
    text = `${who}: **${formatAmount(data.recurring_pre_tax_amount, data.currency)}** every ${every(data)}`;
    color = ['subscription.cancelled', 'subscription.failed', 'subscription.expired', 'subscription.on_hold'].includes(type) ? 'Attention' : 'Accent';
    if (data.next_billing_date && !['subscription.cancelled', 'subscription.expired'].includes(type)) {
      facts.push(['Next billing', data.next_billing_date.slice(0, 10)]);
    }
  } else {
    return null;
  }

  if (c?.email) facts.push(['Customer', c.email]);
  const id = data.refund_id ?? data.dispute_id ?? data.payment_id ?? data.subscription_id;
  if (id) facts.push(['ID', id]);
  if (data.payment_id && data.payment_id !== id) facts.push(['Payment', data.payment_id]);
  facts.push(['Event', type]);

  webhook.payload = {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        msteams: { width: 'Full' },
        body: [
          { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', color, wrap: true },
          { type: 'TextBlock', text, wrap: true },
          { type: 'FactSet', facts: facts.map(([t, v]) => ({ title: t, value: String(v) })) },
          ...(timestamp ? [{ type: 'TextBlock', text: new Date(timestamp).toISOString().slice(0, 16).replace('T', ' ') + ' UTC', isSubtle: true, size: 'Small', spacing: 'None' }] : []),
        ],
      },
    }],
  };
  return webhook;
}

// alert renders an operational event as a card: GET|PUT /v1/alerts chooses
// where they go.
function alert(webhook, esc) {
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
  const color = type === 'hookshift.destination.recovered' ? 'Good' : type === 'hookshift.delivery.dead_lettered' ? 'Warning' : 'Attention';
  webhook.payload = {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        msteams: { width: 'Full' },
        body: [
          { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', color, wrap: true },
          { type: 'TextBlock', text: esc(line), wrap: true },
          { type: 'FactSet', facts: rows.map(([t, v]) => ({ title: t, value: String(v) })) },
        ],
        actions: data.console_url ? [{ type: 'Action.OpenUrl', title: 'Open in the console', url: data.console_url }] : [],
      },
    }],
  };
  return webhook;
}
