// Stripe -> Microsoft Teams: refunds and disputes as Adaptive Cards, in the
// {type: "message", attachments: [...]} envelope Teams webhooks accept.
// Stripe amounts are in the smallest unit with lower-case currency codes;
// formatAmount handles both. refund.created and charge.refunded report the
// same refund: the template's event types pick refund.created.
function handler(webhook) {
  const { type, data, created } = webhook.payload;
  const obj = data?.object;
  let title, text, color;
  const facts = [];
  switch (type) {
    case 'refund.created':
      title = 'Refund';
      text = `Refunded **${formatAmount(obj.amount, obj.currency)}**`;
      color = 'Warning';
      if (obj.payment_intent) facts.push(['Payment', obj.payment_intent]);
      if (obj.reason) facts.push(['Reason', obj.reason.replace(/_/g, ' ')]);
      break;
    case 'charge.dispute.created':
      title = 'Dispute opened';
      text = `Dispute for **${formatAmount(obj.amount, obj.currency)}**: ${String(obj.reason ?? '').replace(/_/g, ' ')}`;
      color = 'Attention';
      if (obj.evidence_details?.due_by) facts.push(['Evidence due', new Date(obj.evidence_details.due_by * 1000).toISOString().slice(0, 10)]);
      break;
    case 'charge.dispute.closed':
      title = `Dispute ${obj.status}`;
      text = `Dispute ${obj.status} for **${formatAmount(obj.amount, obj.currency)}**`;
      color = obj.status === 'won' ? 'Good' : 'Attention';
      break;
    default:
      return null;
  }
  facts.push(['ID', obj.id], ['Event', type]);
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
          { type: 'TextBlock', text: new Date(created * 1000).toISOString().slice(0, 16).replace('T', ' ') + ' UTC', isSubtle: true, size: 'Small', spacing: 'None' },
        ],
      },
    }],
  };
  return webhook;
}
