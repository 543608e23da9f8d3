// Dodo Payments -> Customer.io Track API v2: identify the customer (create
// or update the person) with their email and name, from any event that
// carries the customer. identifiers.id is the Dodo customer_id.
function handler(webhook) {
  const { data, timestamp } = webhook.payload;
  const customer = data?.customer;
  if (!customer?.customer_id) {
    return null;
  }
  webhook.payload = {
    type: 'person',
    identifiers: { id: customer.customer_id },
    action: 'identify',
    timestamp: Math.floor(Date.parse(timestamp) / 1000),
    attributes: { email: customer.email ?? undefined, name: customer.name ?? undefined },
  };
  return webhook;
}
