// Cryptomus -> Microsoft Teams: paid, overpaid, underpaid and failed invoices
// as Adaptive Cards. Cryptomus amounts are strings in major units ("15.00"),
// shown as they are with the invoice currency; what the payer sent is
// payer_amount in payer_currency.
function handler(webhook) {
  const p = webhook.payload;
  const cards = {
    paid: ['Invoice paid', 'Good'],
    paid_over: ['Invoice overpaid', 'Good'],
    wrong_amount: ['Invoice underpaid', 'Warning'],
    fail: ['Invoice payment failed', 'Attention'],
    cancel: ['Invoice cancelled', 'Attention'],
  };
  const card = cards[p.status];
  if (!card) {
    return null;
  }
  const [title, color] = card;
  const facts = [['Order', p.order_id], ['Invoice', p.uuid]];
  if (p.payer_amount && p.payer_currency) facts.push(['Payer sent', `${p.payer_amount} ${p.payer_currency}`]);
  if (p.network) facts.push(['Network', p.network]);
  if (p.txid) facts.push(['Transaction', p.txid]);
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
          { type: 'TextBlock', text: `**${p.amount} ${p.currency}**`, wrap: true },
          { type: 'FactSet', facts: facts.filter(([, v]) => v != null && v !== '').map(([t, v]) => ({ title: t, value: String(v) })) },
        ],
      },
    }],
  };
  return webhook;
}
