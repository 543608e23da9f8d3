// Cryptomus -> Inngest event API: every payment callback becomes
// "cryptomus/<status>" (cryptomus/paid, cryptomus/paid_over, ...) with the
// callback as data (amounts are already in major units, as strings), and
// uuid + status as the Inngest event id, so a repeated callback starts
// functions once.
function handler(webhook) {
  const p = webhook.payload;
  const { sign, ...data } = p;
  webhook.payload = { name: `cryptomus/${p.status}`, id: `cryptomus:${p.uuid}:${p.status}`, data };
  return webhook;
}
