package queue

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// RedactPayload renders a task payload for the operator UI (asynqmon):
// indented JSON with secret-looking fields removed and the customer's
// personal data (email, phone, name, address) masked. Operators see what an
// event is without seeing who.
func RedactPayload(taskType string, payload []byte) string {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "(payload is not JSON; hidden)"
	}
	out, err := json.MarshalIndent(redact(v, "", plain), "", "  ")
	if err != nil {
		return "(payload hidden)"
	}
	return string(out)
}

// redact walks a decoded JSON value; parent is the normalised key holding
// it, and inherit the class of the nearest masked key above (plain if none).
func redact(v any, parent string, inherit fieldClass) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			t[k] = redactField(normKey(k), parent, inherit, val)
		}
		return t
	case []any:
		for i := range t {
			t[i] = redact(t[i], parent, inherit)
		}
		return t
	default:
		return v
	}
}

// fieldClass is how a field's value is shown.
type fieldClass int

const (
	plain    fieldClass = iota
	secret              // removed
	email               // a***@example.com
	phone               // ***67
	name                // A***
	location            // *** (street, postcode, birth date, IP)
)

// normKey lowercases a key and drops everything but letters and digits, so
// "X-Api-Key", "api_key" and "apiKey" are one name.
func normKey(k string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(k) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Substrings of a normalised key that mark it a secret, wherever they occur:
// a class of names (x-api-key, private_key, client_secret, card_number), not
// a list of exact fields.
var secretParts = []string{
	"secret", "token", "password", "passwd", "passphrase", "pwd", "apikey", "privatekey", "accesskey", "writekey",
	"signingkey", "credential", "authorization", "signature", "cookie", "session", "webhookurl",
	"cardnumber", "cvv", "cvc", "ssn", "socialsecurity", "iban", "accountnumber", "routingnumber", "taxid",
}

// Whole normalised keys that are secrets but too short to match as parts.
var secretKeys = map[string]bool{"sign": true, "auth": true, "key": true, "pan": true, "pin": true, "otp": true}

var (
	nameKeys     = []string{"firstname", "lastname", "fullname", "givenname", "familyname", "surname", "middlename", "holdername", "customername", "billingname", "shippingname", "nickname", "displayname"}
	locationKeys = []string{"street", "line1", "line2", "line3", "addressline", "address1", "address2", "zip", "postcode", "postalcode", "birth", "dob"}
	ipKeys       = map[string]bool{"ip": true, "ipaddress": true, "clientip": true, "remoteip": true, "customerip": true, "browserip": true}
	// A plain "name" is a person's under these parents (not a product's).
	personParents = []string{"customer", "billing", "shipping", "address", "owner", "holder", "user", "contact", "recipient", "payer", "buyer", "person", "cardholder"}
)

func classify(key, parent string) fieldClass {
	if secretKeys[key] || strings.HasSuffix(key, "auth") || strings.HasPrefix(key, "auth") && !strings.HasPrefix(key, "author") {
		return secret
	}
	for _, p := range secretParts {
		if strings.Contains(key, p) {
			return secret
		}
	}
	switch {
	case strings.Contains(key, "email"):
		return email
	case strings.Contains(key, "phone") || strings.Contains(key, "mobile") || key == "tel" || key == "telephone" || key == "fax":
		return phone
	case ipKeys[key] || key == "address" || key == "addresses":
		return location
	}
	for _, p := range nameKeys {
		if strings.Contains(key, p) {
			return name
		}
	}
	for _, p := range locationKeys {
		if strings.Contains(key, p) {
			return location
		}
	}
	if key == "name" {
		for _, p := range personParents {
			if strings.Contains(parent, p) {
				return name
			}
		}
	}
	return plain
}

// redactField masks a field's value by its key. Under a masked key, arrays
// are masked element by element (emails: [...]) and objects are walked with
// the key as their parent, their plain fields masked like the key
// (address: {line1, city}, email_addresses: [{value}]).
func redactField(key, parent string, inherit fieldClass, v any) any {
	c := classify(key, parent)
	if c == plain {
		c = inherit
	}
	if c == secret {
		return "[redacted]"
	}
	switch t := v.(type) {
	case map[string]any:
		return redact(t, key, c)
	case []any:
		for i := range t {
			t[i] = redactField(key, parent, inherit, t[i])
		}
		return t
	case string:
		return mask(c, t)
	case json.Number:
		if c != plain {
			return mask(c, t.String())
		}
	}
	return v
}

func mask(c fieldClass, s string) string {
	switch c {
	case email:
		return maskEmail(s)
	case phone:
		return maskTail(s, 2)
	case name:
		return firstRune(s)
	case location:
		if s == "" {
			return s
		}
		return "***"
	}
	return s
}

func maskEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return "***"
	}
	return firstRune(s) + s[at:]
}

func maskTail(s string, keep int) string {
	if len(s) <= keep+4 {
		return "***"
	}
	return "***" + s[len(s)-keep:]
}

// firstRune keeps the first character and masks the rest: "A***".
func firstRune(s string) string {
	for _, r := range s {
		return string(r) + "***"
	}
	return ""
}

// Patterns of personal data and credentials in free text (error messages,
// response bodies quoted in them).
var (
	reJSONString = regexp.MustCompile(`"([A-Za-z0-9_\-. ]{1,64})"\s*:\s*"((?:[^"\\]|\\.)*)"`)
	reUserinfo   = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@]*:[^/\s@]*@`)
	reHookURL    = regexp.MustCompile(`(?i)\b(hooks\.slack\.com/(?:services|workflows|triggers)|(?:discord(?:app)?\.com)/api/webhooks|webhook\.office\.com/webhookb2|hooks\.zapier\.com/hooks/catch)/[^\s"'<>]+`)
	reQuerySec   = regexp.MustCompile(`(?i)([?&](?:[a-z0-9_\-]*(?:token|key|secret|sig|signature|password|auth)[a-z0-9_\-]*)=)[^&\s"'<>]+`)
	reBearer     = regexp.MustCompile(`(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{8,}`)
	reKeyValue   = regexp.MustCompile(`(?i)\b((?:api[_-]?key|x-api-key|access[_-]?token|refresh[_-]?token|token|secret|password|passwd|pwd|authorization|signature)\s*[=:]\s*)([^\s,;&"'}]{4,})`)
	rePrefixed   = regexp.MustCompile(`\b(?:whsec|sk_live|sk_test|rk_live|rk_test|pk_live|hst|hsroot|xox[abprs]|ghp|gho|github_pat|glpat)[_-][A-Za-z0-9_\-]{6,}`)
	reEmail      = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	rePhone      = regexp.MustCompile(`(?:\+\d[\d ().\-]{6,}\d|\(?\b\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}\b)`)
	reLongSecret = regexp.MustCompile(`\b[A-Za-z0-9_]*[0-9][A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]{30,}\b|\b[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*[0-9][A-Za-z0-9_]{30,}\b`)
)

// RedactText masks personal data and credentials in a free text shown to an
// operator, such as a task's last error, which may quote a destination's
// answer: "key": "value" pairs by their key (the payload's rules), then
// URL credentials, webhook URLs, bearer tokens, known token prefixes, email
// addresses, phone numbers and long random-looking strings. The delivery
// path may call it before an error is stored or handed to asynq.
func RedactText(s string) string {
	if s == "" {
		return s
	}
	s = reJSONString.ReplaceAllStringFunc(s, func(m string) string {
		sub := reJSONString.FindStringSubmatch(m)
		// No parent is known in a text: a plain "name" is taken for a person's.
		c := classify(normKey(sub[1]), "customer")
		if c == plain {
			return m
		}
		if c == secret {
			return `"` + sub[1] + `":"[redacted]"`
		}
		return `"` + sub[1] + `":"` + mask(c, sub[2]) + `"`
	})
	s = reUserinfo.ReplaceAllString(s, "${1}***@")
	s = reHookURL.ReplaceAllString(s, "${1}/***")
	s = reQuerySec.ReplaceAllString(s, "${1}***")
	s = reBearer.ReplaceAllString(s, "${1} [redacted]")
	s = reKeyValue.ReplaceAllString(s, "${1}[redacted]")
	s = rePrefixed.ReplaceAllString(s, "[redacted]")
	s = reEmail.ReplaceAllStringFunc(s, maskEmail)
	s = rePhone.ReplaceAllStringFunc(s, func(m string) string { return maskTail(m, 2) })
	s = reLongSecret.ReplaceAllString(s, "[redacted]")
	return s
}
