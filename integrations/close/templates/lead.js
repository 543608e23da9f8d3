// Dodo Payments -> Close: a lead for each new paying customer (POST
// /api/v1/lead/, API key as Basic-auth user name).
//
// Sent for subscription.active (a new subscription) and for one-time
// purchases (payment.succeeded without a subscription_id); renewals and a
// subscription's own payments are skipped, so a subscriber is one lead.
// The lead is named after the customer, with one contact (name, email,
// phone), the billing address, and the purchase in major units in the
// description. Close has no idempotency key: a delivery retried after a
// lost answer can create a second lead, which Close's duplicate merge folds
// back.
function handler(webhook) {
  const { type, data } = webhook.payload;
  const c = data?.customer;
  if (!c?.email) {
    return null;
  }
  let what;
  if (type === 'subscription.active') {
    what = `Subscribed: ${formatAmount(data.recurring_pre_tax_amount, data.currency)} every ${data.payment_frequency_count > 1 ? data.payment_frequency_count + ' ' : ''}${String(data.payment_frequency_interval ?? '').toLowerCase()} (${data.subscription_id}, product ${data.product_id})`;
  } else if (type === 'payment.succeeded' && !data.subscription_id) {
    what = `Paid ${formatAmount(data.total_amount, data.currency)} (${data.payment_id})`;
  } else {
    return null;
  }
  const contact = { name: c.name || c.email, emails: [{ email: c.email, type: 'office' }] };
  if (c.phone_number) contact.phones = [{ phone: c.phone_number, type: 'office' }];
  const lead = {
    name: c.name || c.email,
    description: `${what}. Dodo customer ${c.customer_id}.`,
    contacts: [contact],
  };
  const b = data.billing;
  if (b?.country) {
    lead.addresses = [{ label: 'business', address_1: b.street ?? '', city: b.city ?? '', state: b.state ?? '', zipcode: b.zipcode ?? '', country: b.country }];
  }
  webhook.payload = lead;
  return webhook;
}
