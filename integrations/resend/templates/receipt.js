// Dodo Payments -> Resend (POST /emails): a receipt to the customer for each
// successful payment, sent from config.from (webhook.env.from). Payments
// without a customer email are skipped. The amount, tax and date come from
// the event; amounts go through formatAmount ("29.99 USD", "4,500 JPY").
function handler(webhook) {
  const { type, data } = webhook.payload;
  const { from } = webhook.env;
  if (!from) {
    throw new Error('set config.from on this Resend destination');
  }
  const c = data?.customer;
  if (type !== 'payment.succeeded' || !c?.email) {
    return null;
  }
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);
  const total = formatAmount(data.total_amount, data.currency);
  const rows = [['Amount paid', total]];
  if (data.tax) rows.push(['Of which tax', formatAmount(data.tax, data.currency)]);
  rows.push(['Date', (data.created_at ?? webhook.payload.timestamp).slice(0, 10)], ['Payment ID', data.payment_id]);
  if (data.card_last_four) rows.push(['Card', `${data.card_network ?? 'Card'} ending ${data.card_last_four}`]);
  const hello = c.name ? `Hi ${c.name},` : 'Hi,';
  webhook.payload = {
    from,
    to: [c.email],
    subject: `Your receipt: ${total}`,
    html: `<p>${esc(hello)}</p><p>Thank you for your payment.</p><table cellpadding="4">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td><b>${esc(v)}</b></td></tr>`).join('')}</table>`,
    text: [hello, '', 'Thank you for your payment.', '', ...rows.map(([k, v]) => `${k}: ${v}`)].join('\n'),
    tags: [{ name: 'event', value: 'receipt' }],
  };
  return webhook;
}
