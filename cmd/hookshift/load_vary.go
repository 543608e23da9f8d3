package main

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/hookshift/hookshift/integrations/inbound"
)

// loadVariants makes each request's body unique in what the event log
// indexes: with --vary-search-keys, the body's customer id, e-mail and
// payment ids (inbound.SearchKeys) are replaced by values of the same
// length that carry the request's number. Real traffic has many customers,
// each with a few events; one body posted again and again puts every event
// into the same three search indexes instead, which makes the bytes per
// event look smaller than they are.
type loadVariants struct {
	olds [][]byte
}

func newLoadVariants(body []byte) (*loadVariants, error) {
	k := inbound.SearchKeys(body)
	lv := &loadVariants{}
	for _, v := range append([]string{k.CustomerID, k.Email}, k.PaymentIDs...) {
		// The e-mail comes back in lower case; one the body spells
		// otherwise is not found and stays as it is.
		if len(v) >= 4 && bytes.Contains(body, []byte(v)) {
			lv.olds = append(lv.olds, []byte(v))
		}
	}
	if len(lv.olds) == 0 {
		return nil, errors.New("--vary-search-keys: the --event body has no customer id, e-mail or payment id to vary")
	}
	return lv, nil
}

// body is request i's body.
func (lv *loadVariants) body(body []byte, i int) []byte {
	for _, old := range lv.olds {
		body = bytes.ReplaceAll(body, old, varyValue(old, i))
	}
	return body
}

// varyValue overwrites the end of v (of an e-mail, the end of its local
// part) with i in base 36, six digits wide, keeping v's length.
func varyValue(v []byte, i int) []byte {
	tag := strconv.FormatInt(int64(i), 36)
	if len(tag) < 6 {
		tag = "000000"[len(tag):] + tag
	}
	out := bytes.Clone(v)
	end := len(out)
	if at := bytes.IndexByte(out, '@'); at > 0 {
		end = at
	}
	n := min(len(tag), end)
	copy(out[end-n:end], tag[len(tag)-n:])
	return out
}
