// Stripe -> Slack: refunds and disputes. Stripe amounts are in the smallest
// unit with lower-case currency codes; formatAmount handles both.
// refund.created and charge.refunded report the same refund: subscribe to
// one of them (the template's event types pick refund.created).
function handler(webhook) {
  const { type, data, created } = webhook.payload;
  const obj = data?.object;
  const esc = (s) => String(s ?? '').replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
  let text;
  const details = [];
  switch (type) {
    case 'refund.created':
      text = `:leftwards_arrow_with_hook: Refunded ${formatAmount(obj.amount, obj.currency)}`;
      if (obj.payment_intent) details.push(`payment ${obj.payment_intent}`);
      if (obj.reason) details.push(obj.reason.replace(/_/g, ' '));
      break;
    case 'charge.refunded': {
      const latest = obj.refunds?.data?.[0];
      const amount = latest ? latest.amount : obj.amount_refunded - (data.previous_attributes?.amount_refunded ?? 0);
      const who = obj.billing_details?.name || obj.billing_details?.email || obj.receipt_email;
      text = `:leftwards_arrow_with_hook: Refunded ${formatAmount(amount, obj.currency)}${who ? ` to ${esc(who)}` : ''}`;
      details.push(`${formatAmount(obj.amount_refunded, obj.currency)} of ${formatAmount(obj.amount, obj.currency)} refunded in total`);
      break;
    }
    case 'charge.dispute.created':
      text = `:warning: Dispute opened for ${formatAmount(obj.amount, obj.currency)}: ${obj.reason.replace(/_/g, ' ')}`;
      if (obj.evidence_details?.due_by) details.push(`evidence due ${new Date(obj.evidence_details.due_by * 1000).toISOString().slice(0, 10)}`);
      break;
    case 'charge.dispute.closed':
      text = `${obj.status === 'won' ? ':white_check_mark:' : ':rotating_light:'} Dispute ${esc(obj.status)} for ${formatAmount(obj.amount, obj.currency)}`;
      break;
    default:
      return null;
  }
  webhook.payload = {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: [text, ...details.map((d) => `_${esc(d)}_`)].join('\n') } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${type}\` · \`${esc(obj.id)}\` · ${new Date(created * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC` }] },
    ],
  };
  return webhook;
}
