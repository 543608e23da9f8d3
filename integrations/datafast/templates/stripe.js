// Stripe -> DataFast: payments, refunds and lost disputes.
//
// Stripe amounts are in the currency's smallest unit and its currency codes
// are lower case; toMajorUnits handles both. DataFast is idempotent on
// transaction_id:
//   - payment_intent.succeeded: transaction_id = the PaymentIntent id; sent
//     only with metadata.datafast_visitor_id (set it at checkout).
//   - refund.created and charge.refunded describe the same refund, and a
//     merchant may subscribe to either or both: both use the refund's id
//     (re_...), so DataFast records it once. charge.refunded lists the
//     newest refund first; without the list it falls back to the charge id
//     and the cumulative refunded amount, still stable across retries.
//   - charge.dispute.created is not sent: the money is only held while the
//     dispute is open. charge.dispute.closed with status "lost" is recorded
//     as a refund with transaction_id = the dispute id.
function handler(webhook) {
  const { type, data, created } = webhook.payload;
  const obj = data?.object;
  const when = () => new Date(created * 1000).toISOString();
  const visitor = (meta) => (meta?.datafast_visitor_id ? { datafast_visitor_id: meta.datafast_visitor_id } : {});

  switch (type) {
    case 'payment_intent.succeeded': {
      if (!obj.metadata?.datafast_visitor_id) {
        console.log(`no datafast_visitor_id on ${obj.id}, not sent`);
        return null;
      }
      webhook.payload = {
        amount: toMajorUnits(obj.amount_received ?? obj.amount, obj.currency),
        currency: obj.currency.toUpperCase(),
        transaction_id: obj.id,
        ...visitor(obj.metadata),
        email: obj.receipt_email ?? undefined,
        customer_id: obj.customer ?? undefined,
        timestamp: when(),
      };
      return webhook;
    }
    case 'refund.created': {
      webhook.payload = {
        amount: toMajorUnits(obj.amount, obj.currency),
        currency: obj.currency.toUpperCase(),
        transaction_id: obj.id,
        ...visitor(obj.metadata),
        refunded: true,
        timestamp: when(),
      };
      return webhook;
    }
    case 'charge.refunded': {
      const latest = obj.refunds?.data?.[0];
      const before = data.previous_attributes?.amount_refunded ?? 0;
      webhook.payload = {
        amount: toMajorUnits(latest ? latest.amount : obj.amount_refunded - before, obj.currency),
        currency: obj.currency.toUpperCase(),
        transaction_id: latest ? latest.id : `${obj.id}:refunded:${obj.amount_refunded}`,
        ...visitor(obj.metadata),
        email: obj.billing_details?.email ?? obj.receipt_email ?? undefined,
        name: obj.billing_details?.name ?? undefined,
        customer_id: obj.customer ?? undefined,
        refunded: true,
        timestamp: when(),
      };
      return webhook;
    }
    case 'charge.dispute.closed': {
      if (obj.status !== 'lost') {
        return null;
      }
      webhook.payload = {
        amount: toMajorUnits(obj.amount, obj.currency),
        currency: obj.currency.toUpperCase(),
        transaction_id: obj.id,
        ...visitor(obj.metadata),
        refunded: true,
        timestamp: when(),
      };
      return webhook;
    }
    case 'charge.dispute.created':
      console.log(`dispute ${obj.id} opened: recorded only if lost (charge.dispute.closed)`);
      return null;
    default:
      return null;
  }
}
