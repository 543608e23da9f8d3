// Stripe -> HubSpot contact upsert keyed on email, as the contact template
// does for Dodo: from payment_intent.succeeded (receipt_email) or
// charge.refunded (billing_details). Events without an email are skipped.
function handler(webhook) {
  const { type, data } = webhook.payload;
  const obj = data?.object;
  let email, name, phone, addr;
  if (type === 'payment_intent.succeeded') {
    email = obj.receipt_email;
    const ship = obj.shipping;
    name = ship?.name;
    phone = ship?.phone;
    addr = ship?.address;
  } else if (type === 'charge.refunded') {
    const bd = obj.billing_details ?? {};
    email = bd.email ?? obj.receipt_email;
    name = bd.name;
    phone = bd.phone;
    addr = bd.address;
  } else {
    return null;
  }
  if (!email) {
    return null;
  }
  const full = String(name ?? '').trim();
  const cut = full.lastIndexOf(' ');
  const properties = {
    email,
    firstname: cut > 0 ? full.slice(0, cut) : full || undefined,
    lastname: cut > 0 ? full.slice(cut + 1) : undefined,
    phone: phone ?? undefined,
    address: addr?.line1 ?? undefined,
    city: addr?.city ?? undefined,
    state: addr?.state ?? undefined,
    zip: addr?.postal_code ?? undefined,
    country: addr?.country ?? undefined,
  };
  for (const k of Object.keys(properties)) {
    if (properties[k] === undefined) delete properties[k];
  }
  webhook.payload = { inputs: [{ idProperty: 'email', id: email, properties }] };
  return webhook;
}
