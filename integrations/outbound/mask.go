package outbound

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Masked replaces a secret wherever one would be shown.
const Masked = "****"

// harmlessHeaders are the only header values shown as they are. Every other
// value is masked: a header name says nothing about whether its value is a
// credential (X-Custom: <token>), so the list names what is known to be safe
// rather than what is known to be secret.
var harmlessHeaders = map[string]bool{
	"Accept":            true,
	"Accept-Encoding":   true,
	"Content-Length":    true,
	"Content-Type":      true,
	"Idempotency-Key":   true, // event id + destination id
	"User-Agent":        true,
	"Webhook-Id":        true, // the idempotency key again (Standard Webhooks)
	"Webhook-Timestamp": true,
}

// HarmlessHeader reports whether a header's value may be shown in clear.
func HarmlessHeader(name string) bool { return harmlessHeaders[http.CanonicalHeaderKey(name)] }

// MaskHeaders returns a copy of h with every value masked but the harmless
// ones (Content-Type, User-Agent, Idempotency-Key, webhook-id, ...).
func MaskHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if !HarmlessHeader(k) {
			v = Masked
		}
		out[k] = v
	}
	return out
}

// ShownURL is how a destination URL may be shown (attempt logs, API
// output, previews): a password in it is masked, and when the URL is itself
// the credential (URLField set: Slack, Discord) only scheme and host remain.
func (s Spec) ShownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Masked
	}
	if s.URLField != "" {
		return u.Scheme + "://" + u.Host + "/" + Masked
	}
	if u.User != nil {
		u.User = nil // a user name may be a token too
		return strings.Replace(u.String(), "://", "://"+Masked+"@", 1)
	}
	return raw
}

// Secrets lists the texts of a request that must never be shown: the whole
// URL and its path when the URL is the credential (Slack, Discord), a
// password in the URL, and the values of the integration's secret config
// fields. MaskText removes them from any text (an error, a response body, a
// script's log) before it is stored, logged or shown.
func (s Spec) Secrets(rawURL string, config map[string]string) []string {
	var out []string
	if u, err := url.Parse(rawURL); err == nil {
		if u.User != nil {
			// The password, and the user name when it is long enough to be a
			// token (https://<token>@host) rather than a word such as "user".
			p, _ := u.User.Password()
			out = append(out, p, url.QueryEscape(p))
			if name := u.User.Username(); len(name) >= 8 {
				out = append(out, name)
			}
		}
		if s.URLField != "" {
			// The credential is the path (hooks.slack.com/services/T/B/<secret>):
			// mask the URL in every spelling an error may use, the path, and
			// each long path segment on its own.
			out = append(out, rawURL, u.String(), u.Path, u.EscapedPath(), u.RawQuery)
			for _, seg := range strings.Split(u.Path, "/") {
				if len(seg) > 8 {
					out = append(out, seg)
				}
			}
		}
	}
	for name := range s.SecretFields() {
		out = append(out, config[name])
	}
	return out
}

// minSecretLen keeps MaskText from masking every "a" of a text because a
// one-letter value was configured somewhere.
const minSecretLen = 4

// userinfo matches the user:password@ of any URL in a text.
var userinfo = regexp.MustCompile(`(://)[^/?#@\s"']+@`)

// MaskText replaces every secret in text by Masked, longest first, so that a
// URL is masked whole before its path is, and the user and password of any
// URL in the text, known or not (a script's invalid URL, quoted in its error).
func MaskText(text string, secrets []string) string {
	if text == "" {
		return text
	}
	text = userinfo.ReplaceAllString(text, "${1}"+Masked+"@")
	ss := make([]string, 0, len(secrets))
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			ss = append(ss, s)
		}
	}
	sort.Slice(ss, func(i, j int) bool { return len(ss[i]) > len(ss[j]) })
	for _, s := range ss {
		text = strings.ReplaceAll(text, s, Masked)
	}
	return text
}
