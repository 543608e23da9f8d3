package transformer

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/dop251/goja"
)

// decodePayload returns what handler(webhook) sees as webhook.payload.
// An object payload that decodeJSON would accept is handed over lazily: each
// JSON object becomes a goja DynamicObject (lazyObject) that builds a member's
// value only when the script first reads it. Transforms read a dozen fields
// of events with a hundred, so most of the event is never built. Anything
// else goes through decodeJSON (and from there, if need be, JSON.parse).
//
// The whole input is checked first, with decodeJSON's own rules, so a lazy
// read can never meet bad JSON. What differs from a plain object: a lazy
// object cannot be frozen, sealed or made non-extensible, and its
// properties cannot be redefined as non-writable (goja's DynamicObject
// contract); reads, writes, deletes, key order, spread, for-in, Object.keys
// and JSON.stringify behave as on the object JSON.parse would build.
func decodePayload(vm *goja.Runtime, data []byte) (goja.Value, error) {
	c := jsonDecoder{data: data, check: true}
	c.skipSpace()
	if c.pos < len(data) && data[c.pos] == '{' {
		if _, err := c.value(0); err == nil {
			c.skipSpace()
			if c.pos == len(data) {
				d := &jsonDecoder{vm: vm, data: data, lazy: true}
				d.skipSpace()
				return d.lazyObject()
			}
		}
	}
	return decodeJSON(vm, data)
}

// lazyObject wraps the JSON object at d.pos, which decodePayload has
// checked, and moves d.pos past it.
func (d *jsonDecoder) lazyObject() (goja.Value, error) {
	c := jsonDecoder{data: d.data, pos: d.pos, check: true}
	if _, err := c.object(0); err != nil {
		return nil, err
	}
	lo := &lazyObject{d: d, start: d.pos}
	d.pos = c.pos
	return d.vm.NewDynamicObject(lo), nil
}

// lazyIndexMin is the member count from which a lazyObject keeps a map
// from key to position rather than searching its keys.
const lazyIndexMin = 32

// lazyObject is one JSON object of the payload, as a goja DynamicObject.
// Its members are found when the script first touches the object, and each
// value is built when first read, then kept, so a value read twice is the
// same JS value.
type lazyObject struct {
	d     *jsonDecoder // the run's decoder, over the whole payload
	start int          // offset of the object's '{'; -1 once indexed

	members []lazyMember // in the order JSON.parse gives: array indexes ascending, then the rest as written
	index   map[string]int
}

type lazyMember struct {
	key  string
	span int        // where the member's JSON value starts
	val  goja.Value // nil until built or set
}

// ensure finds the members, once. The work is linear in the object's size
// (plus a sort when it has array-index keys): it runs inside one native
// call, where the run's interrupt cannot reach.
func (l *lazyObject) ensure() {
	if l.start < 0 {
		return
	}
	n := l.count()
	c := jsonDecoder{data: l.d.data, pos: l.start + 1}
	l.start = -1
	l.members = make([]lazyMember, 0, n)
	if n >= lazyIndexMin {
		l.index = make(map[string]int, n)
	}
	hasIndexKey := false
	c.skipSpace()
	for c.pos < len(c.data) && c.data[c.pos] == '"' {
		key, _ := c.str()
		c.skipSpace()
		c.pos++ // :
		c.skipSpace()
		at := c.pos
		c.check = true
		_, _ = c.value(0)
		c.check = false
		if i := l.find(key); i >= 0 { // a repeated key: the last value, the first place
			l.members[i].span = at
		} else {
			l.members = append(l.members, lazyMember{key: key, span: at})
			if l.index != nil {
				l.index[key] = len(l.members) - 1
			}
			if !hasIndexKey {
				_, hasIndexKey = arrayIndex(key)
			}
		}
		c.skipSpace()
		if c.pos < len(c.data) && c.data[c.pos] == ',' {
			c.pos++
			c.skipSpace()
		}
	}
	if hasIndexKey {
		slices.SortStableFunc(l.members, func(a, b lazyMember) int {
			x, aIdx := arrayIndex(a.key)
			y, bIdx := arrayIndex(b.key)
			switch {
			case aIdx && bIdx:
				return cmp.Compare(x, y)
			case aIdx:
				return -1
			case bIdx:
				return 1
			}
			return 0
		})
		if l.index != nil {
			l.reindex(0)
		}
	}
}

// count counts the object's members, to size l.members once.
func (l *lazyObject) count() int {
	c := jsonDecoder{data: l.d.data, pos: l.start + 1, check: true}
	n := 0
	c.skipSpace()
	for c.pos < len(c.data) && c.data[c.pos] == '"' {
		n++
		_, _ = c.str()
		c.skipSpace()
		c.pos++ // :
		c.skipSpace()
		_, _ = c.value(0)
		c.skipSpace()
		if c.pos < len(c.data) && c.data[c.pos] == ',' {
			c.pos++
			c.skipSpace()
		}
	}
	return n
}

func (l *lazyObject) find(key string) int {
	if l.index != nil {
		if i, ok := l.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range l.members {
		if l.members[i].key == key {
			return i
		}
	}
	return -1
}

// insert adds a member where an ordinary object would list it: an array
// index among the indexes, in numeric order; any other key last.
func (l *lazyObject) insert(key string, span int, v goja.Value) {
	m := lazyMember{key: key, span: span, val: v}
	at := len(l.members)
	if n, ok := arrayIndex(key); ok {
		at = 0
		for at < len(l.members) {
			k, isIdx := arrayIndex(l.members[at].key)
			if !isIdx || k > n {
				break
			}
			at++
		}
	}
	if at == len(l.members) {
		l.members = append(l.members, m)
	} else {
		l.members = slices.Insert(l.members, at, m)
	}
	l.reindex(at)
}

// reindex updates the key map from position from on, creating it once the
// object is big enough.
func (l *lazyObject) reindex(from int) {
	if l.index == nil {
		if len(l.members) < lazyIndexMin {
			return
		}
		l.index, from = make(map[string]int, len(l.members)), 0
	}
	for i := from; i < len(l.members); i++ {
		l.index[l.members[i].key] = i
	}
}

// arrayIndex reports whether key is a canonical array index (0 to
// 2**32-2), which ordinary objects list first, in numeric order.
func arrayIndex(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return 0, false // without ParseUint's error, which allocates
		}
	}
	n, err := strconv.ParseUint(key, 10, 32)
	if err != nil || n == 1<<32-1 {
		return 0, false
	}
	return n, true
}

// Get implements goja.DynamicObject.
func (l *lazyObject) Get(key string) goja.Value {
	l.ensure()
	i := l.find(key)
	if i < 0 {
		return nil
	}
	m := &l.members[i]
	if m.val == nil {
		d := l.d
		d.pos = m.span
		v, err := d.value(0)
		if err != nil || v == nil { // cannot happen: the payload was checked
			v = goja.Undefined()
		}
		m.val = v
	}
	return m.val
}

// Set implements goja.DynamicObject.
func (l *lazyObject) Set(key string, v goja.Value) bool {
	l.ensure()
	if i := l.find(key); i >= 0 {
		l.members[i].val = v
		return true
	}
	l.insert(key, -1, v)
	return true
}

// Has implements goja.DynamicObject.
func (l *lazyObject) Has(key string) bool {
	l.ensure()
	return l.find(key) >= 0
}

// Delete implements goja.DynamicObject.
func (l *lazyObject) Delete(key string) bool {
	l.ensure()
	i := l.find(key)
	if i < 0 {
		return true
	}
	l.members = slices.Delete(l.members, i, i+1)
	if l.index != nil {
		delete(l.index, key)
		l.reindex(i)
	}
	return true
}

// Keys implements goja.DynamicObject. It returns a copy: goja iterates it
// while the script may add or delete members.
func (l *lazyObject) Keys() []string {
	l.ensure()
	keys := make([]string, len(l.members))
	for i := range l.members {
		keys[i] = l.members[i].key
	}
	return keys
}
