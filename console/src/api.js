// The one way the console talks to hookshift: same-origin fetches that carry
// the session cookie and, on every change, the CSRF token.

const SESSION = "/console/api/session";
let csrf = "";

/** ApiError carries the API's own message and status. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

/** api calls the admin API: api("POST", "/v1/sources", {...}). */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { error: { message: "hookshift did not answer: " + e.message } });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { error: { message: text.slice(0, 300) } }; }
  }
  if (!res.ok) {
    if (res.status === 401 && path.startsWith("/v1/") && onSignedOut) onSignedOut();
    throw new ApiError(res.status, data);
  }
  return data;
}

let onSignedOut = null;
/** whenSignedOut registers what to do when the session ends under us. */
export function whenSignedOut(f) { onSignedOut = f; }

/** session returns who is signed in, or null. */
export async function session() {
  try {
    const s = await api("GET", SESSION);
    csrf = s.csrf_token || "";
    return s;
  } catch (e) {
    if (e.status === 401 || e.status === 404) return null;
    throw e;
  }
}

/** signIn exchanges a pasted tenant token for a session. */
export async function signIn(token) {
  const s = await api("POST", "/console/auth/token", { token });
  csrf = s.csrf_token || "";
  return s;
}

/** signOut ends the session on the server. */
export async function signOut() {
  try { await api("POST", "/console/api/logout"); } finally { csrf = ""; }
}
