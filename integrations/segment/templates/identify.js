// Dodo Payments -> Segment Identify (POST /v1/identify, write key as Basic
// auth): keeps the customer's email and name current in Segment.
//
// The destination URL is the Track endpoint, so the script points the
// request at Identify on the same host (which keeps an EU workspace's
// endpoint EU). Events without a customer email are skipped.
function handler(webhook) {
  const { type, data, timestamp } = webhook.payload;
  const c = data?.customer;
  if (!c?.customer_id || !c.email) {
    return null;
  }
  webhook.url = webhook.url.replace(/\/track\/?$/, '/identify');
  webhook.payload = {
    userId: c.customer_id,
    traits: { email: c.email, name: c.name ?? undefined },
    timestamp,
    messageId: `identify:${c.customer_id}:${type}:${Date.parse(timestamp)}`,
  };
  return webhook;
}
