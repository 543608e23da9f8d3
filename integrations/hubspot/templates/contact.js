// Dodo Payments -> HubSpot contact upsert (POST
// /crm/v3/objects/contacts/batch/upsert, private app token as Bearer).
//
// The contact is keyed on the customer's email (idProperty "email"), so the
// same customer is one contact however many payments, retries or replays
// arrive. Only HubSpot's default contact properties are set, so nothing has
// to be created in HubSpot first: email, firstname, lastname (split from the
// customer's name), phone, and the billing address when the event has one.
// Events without a customer email are skipped.
function handler(webhook) {
  const { data } = webhook.payload;
  const c = data?.customer;
  if (!c?.email) {
    return null;
  }
  const name = String(c.name ?? '').trim();
  const cut = name.lastIndexOf(' ');
  const properties = {
    email: c.email,
    firstname: cut > 0 ? name.slice(0, cut) : name || undefined,
    lastname: cut > 0 ? name.slice(cut + 1) : undefined,
    phone: c.phone_number ?? undefined,
  };
  const b = data.billing;
  if (b) {
    Object.assign(properties, { address: b.street ?? undefined, city: b.city ?? undefined, state: b.state ?? undefined, zip: b.zipcode ?? undefined, country: b.country ?? undefined });
  }
  for (const k of Object.keys(properties)) {
    if (properties[k] === undefined) delete properties[k];
  }
  webhook.payload = { inputs: [{ idProperty: 'email', id: c.email, properties }] };
  return webhook;
}
