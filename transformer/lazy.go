package transformer

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/dop251/goja"
)

// payloadDecoder is a runtime's decoder of event payloads, kept between
// runs so that its index buffers are reused. Nothing of a run is reachable
// from the next one (see runOn), and each lazy object also carries the run
// it belongs to (gen), so a stale one could only ever read as empty.
type payloadDecoder struct {
	jsonDecoder
	index payloadIndex
	gen   uint64
	// members holds the members of every lazy object of the run, each
	// object's a slice of it with its own capacity; objects holds the
	// objects.
	members []lazyMember
	objects []lazyObject
}

// newObject returns a zero lazyObject, from d.objects while it has room.
// A full buffer is replaced, never grown in place: the objects already
// handed out keep pointing into the old one.
func (d *payloadDecoder) newObject() *lazyObject {
	if len(d.objects) == cap(d.objects) {
		if cap(d.objects) >= maxKeptEntries/4 {
			return &lazyObject{}
		}
		d.objects = make([]lazyObject, 0, max(16, 2*cap(d.objects)))
	}
	d.objects = d.objects[:len(d.objects)+1]
	return &d.objects[len(d.objects)-1]
}

// release lets go of the last run's payload and values once the run is
// over (no script can reach its lazy objects any more); the buffers stay,
// within bounds, for the next run.
func (d *payloadDecoder) release() {
	d.gen++
	buf := d.buf
	if cap(buf) > maxKeptEntries {
		buf = nil
	}
	d.jsonDecoder = jsonDecoder{buf: buf}
	d.index.reset()
	d.members = keep(d.members)
	d.objects = keep(d.objects)
}

// membersFor returns room for n members, from d.members while it has some.
func (d *payloadDecoder) membersFor(n int) []lazyMember {
	if cap(d.members)-len(d.members) < n {
		if n > maxKeptEntries/4 {
			return make([]lazyMember, 0, n)
		}
		d.members = make([]lazyMember, 0, max(2*cap(d.members), 64, n))
	}
	start := len(d.members)
	d.members = d.members[:start+n]
	return d.members[start : start : start+n]
}

// payloadIndex is where the members of each JSON object of a payload are,
// found in the one pass that checks the payload. A lazy object reads its
// members from here, never scanning its bytes again.
type payloadIndex struct {
	objStart []int32 // offset of each object's '{', ascending (objects in the order they open)
	objAt    []int32 // where each object's entry starts in tape
	// tape holds, per object: the offset just past its '}', its member
	// count, then per member the offsets of its key's first byte and of the
	// key's closing quote, the offset of its value, and 1 if the key has
	// escapes (else 0).
	tape    []int32
	pending []int32 // the members of the objects still open, innermost last
}

// memberWords is the number of tape entries per member.
const memberWords = 4

func (x *payloadIndex) reset() {
	x.objStart, x.objAt, x.tape, x.pending = keep(x.objStart), keep(x.objAt), keep(x.tape), keep(x.pending)
}

// maxKeptEntries bounds what a runtime keeps of each buffer between runs,
// so that one huge payload does not stay in memory in every idle runtime.
const maxKeptEntries = 16 << 10

// keep empties buf for the next run, or drops it if it grew too big.
func keep[T any](buf []T) []T {
	if cap(buf) > maxKeptEntries {
		return nil
	}
	clear(buf) // let the last run's values go
	return buf[:0]
}

// open records an object starting at pos and returns its slot and the mark
// of its members in pending.
func (x *payloadIndex) open(pos int) (slot, mark int) {
	x.objStart = append(x.objStart, int32(pos))
	x.objAt = append(x.objAt, -1)
	return len(x.objStart) - 1, len(x.pending)
}

func (x *payloadIndex) member(keyStart, keyEnd, value int, escaped bool) {
	esc := int32(0)
	if escaped {
		esc = 1
	}
	x.pending = append(x.pending, int32(keyStart), int32(keyEnd), int32(value), esc)
}

// close moves the members of the object in slot from pending to the tape.
func (x *payloadIndex) close(slot, mark, end int) {
	x.objAt[slot] = int32(len(x.tape))
	x.tape = append(x.tape, int32(end), int32((len(x.pending)-mark)/memberWords))
	x.tape = append(x.tape, x.pending[mark:]...)
	x.pending = x.pending[:mark]
}

// object returns the tape entry of the object at pos.
func (x *payloadIndex) object(pos int) (int, bool) {
	i, found := slices.BinarySearch(x.objStart, int32(pos))
	if !found || x.objAt[i] < 0 {
		return 0, false
	}
	return int(x.objAt[i]), true
}

// decodePayload returns what handler(webhook) sees as webhook.payload.
// An object payload that decodeJSON would accept is handed over lazily: each
// JSON object becomes a goja DynamicObject (lazyObject) that builds a member's
// value only when the script first reads it. Transforms read a dozen fields
// of events with a hundred, so most of the event is never built. Anything
// else goes through decodeJSON (and from there, if need be, JSON.parse).
//
// The whole input is checked first, with decodeJSON's own rules, in one
// pass that also indexes every object's members (payloadIndex), so a lazy
// read can never meet bad JSON and never scans the bytes again. What
// differs from a plain object: a lazy object cannot be frozen, sealed or
// made non-extensible, and its properties cannot be redefined as
// non-writable (goja's DynamicObject contract); reads, writes, deletes, key
// order, spread, for-in, Object.keys and JSON.stringify behave as on the
// object JSON.parse would build.
//
// d is the runtime's decoder; the payload's objects read from it until the
// next call.
func decodePayload(vm *goja.Runtime, d *payloadDecoder, data []byte) (goja.Value, error) {
	d.gen++
	d.index.reset()
	d.members = keep(d.members)
	d.objects = keep(d.objects)
	d.jsonDecoder = jsonDecoder{data: data, buf: d.buf, check: true, pd: d}
	d.skipSpace()
	if d.pos < len(data) && data[d.pos] == '{' {
		start := d.pos
		if _, err := d.value(0); err == nil {
			d.skipSpace()
			if d.pos == len(data) {
				d.jsonDecoder = jsonDecoder{vm: vm, data: data, buf: d.buf, pos: start, lazy: true, pd: d}
				return d.lazyObject()
			}
		}
	}
	return decodeJSON(vm, data)
}

// lazyObject wraps the JSON object at d.pos, which decodePayload has
// checked and indexed, and moves d.pos past it.
func (d *jsonDecoder) lazyObject() (goja.Value, error) {
	pd := d.pd
	at, ok := pd.index.object(d.pos)
	if !ok { // cannot happen: the payload was checked
		return nil, errNeedJSParse
	}
	lo := pd.newObject()
	lo.d, lo.gen, lo.at = pd, pd.gen, at
	d.pos = int(pd.index.tape[at])
	return d.vm.NewDynamicObject(lo), nil
}

// lazyIndexMin is the member count from which a lazyObject keeps a map
// from key to position rather than searching its keys' sums.
const lazyIndexMin = 64

// lazyObject is one JSON object of the payload, as a goja DynamicObject.
// Its members are taken from the index when the script first touches the
// object, and each value is built when first read, then kept, so a value
// read twice is the same JS value.
type lazyObject struct {
	d   *payloadDecoder // the runtime's decoder, over the whole payload
	gen uint64          // the run the object belongs to
	at  int             // the object's tape entry; -1 once its members are listed

	members []lazyMember // in the order JSON.parse gives: array indexes ascending, then the rest as written
	keys    []string     // the keys that are not in the payload's bytes as they are
	index   map[string]int
}

// lazyMember is one member. A key read from the payload without escapes
// stays in the payload's bytes until a string is needed.
type lazyMember struct {
	// keyStart and keyEnd delimit the key in the payload; a negative
	// keyStart is -(1 + its position in keys).
	keyStart, keyEnd int32
	span             int32      // where the member's JSON value starts; -1 for a member the script added
	sum              uint32     // keySum of the key
	val              goja.Value // nil until built or set
}

// stale reports whether l belongs to an earlier run than the decoder's (or
// was cleared with the decoder's buffers since). No script can reach such
// an object; this keeps it empty even so.
func (l *lazyObject) stale() bool { return l.d == nil || l.gen != l.d.gen }

// ensure lists the members from the index, once. The work is linear in the
// member count, plus a sort when there are array-index keys, plus a search
// among the members with the same key sum: it runs inside one native call,
// where the run's interrupt cannot reach.
func (l *lazyObject) ensure() {
	if l.at < 0 {
		return
	}
	at := l.at
	l.at = -1
	if l.stale() {
		return
	}
	tape, data := l.d.index.tape, l.d.data
	n := int(tape[at+1])
	ents := tape[at+2 : at+2+memberWords*n]
	l.members = l.d.membersFor(n)
	if n >= lazyIndexMin {
		l.index = make(map[string]int, n)
	}
	hasIndexKey := false
	for i := 0; i < len(ents); i += memberWords {
		m := lazyMember{keyStart: ents[i], keyEnd: ents[i+1], span: ents[i+2]}
		if ents[i+3] != 0 { // escapes: decode the key
			c := jsonDecoder{data: data, pos: int(m.keyStart) - 1}
			key, _ := c.str()
			m.keyStart = l.keep(key)
		}
		m.sum = sumOf(l.raw(&m))
		if j := l.findMember(&m); j >= 0 { // a repeated key: the last value, the first place
			l.members[j].span = m.span
			continue
		}
		l.members = append(l.members, m)
		if l.index != nil {
			l.index[l.name(&m)] = len(l.members) - 1
		}
		if k := l.raw(&m); !hasIndexKey && len(k) > 0 && isDigit(k[0]) {
			_, hasIndexKey = arrayIndex(l.name(&m))
		}
	}
	if hasIndexKey {
		slices.SortStableFunc(l.members, func(a, b lazyMember) int {
			x, aIdx := arrayIndex(l.name(&a))
			y, bIdx := arrayIndex(l.name(&b))
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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// keep stores a key that is not in the payload's bytes as they are, and
// returns the keyStart that names it.
func (l *lazyObject) keep(key string) int32 {
	l.keys = append(l.keys, key)
	return int32(-len(l.keys))
}

// raw returns m's key as bytes, without copying those in the payload.
func (l *lazyObject) raw(m *lazyMember) []byte {
	if m.keyStart < 0 {
		return []byte(l.keys[-m.keyStart-1])
	}
	return l.d.data[m.keyStart:m.keyEnd]
}

// name returns m's key as a string.
func (l *lazyObject) name(m *lazyMember) string {
	if m.keyStart < 0 {
		return l.keys[-m.keyStart-1]
	}
	return string(l.d.data[m.keyStart:m.keyEnd])
}

// is reports whether m's key is key, without making a string.
func (l *lazyObject) is(m *lazyMember, key string) bool {
	if m.keyStart < 0 {
		return l.keys[-m.keyStart-1] == key
	}
	return string(l.d.data[m.keyStart:m.keyEnd]) == key
}

// findMember finds a member with m's key while ensure lists them.
func (l *lazyObject) findMember(m *lazyMember) int {
	if l.index != nil {
		return l.find(l.name(m))
	}
	for i := range l.members {
		o := &l.members[i]
		if o.sum == m.sum && string(l.raw(o)) == string(l.raw(m)) {
			return i
		}
	}
	return -1
}

// sumOf is a cheap hash of a key: its length and its first and last
// bytes, enough to tell almost all the keys of one object apart.
func sumOf[K string | []byte](k K) uint32 {
	if len(k) == 0 {
		return 0
	}
	return uint32(len(k))<<16 | uint32(k[0])<<8 | uint32(k[len(k)-1])
}

func (l *lazyObject) find(key string) int {
	if l.index != nil {
		if i, ok := l.index[key]; ok {
			return i
		}
		return -1
	}
	sum := sumOf(key)
	for i := range l.members {
		if m := &l.members[i]; m.sum == sum && l.is(m, key) {
			return i
		}
	}
	return -1
}

// insert adds a member where an ordinary object would list it: an array
// index among the indexes, in numeric order; any other key last.
func (l *lazyObject) insert(key string, v goja.Value) {
	m := lazyMember{keyStart: l.keep(key), span: -1, sum: sumOf(key), val: v}
	at := len(l.members)
	if n, ok := arrayIndex(key); ok {
		at = 0
		for at < len(l.members) {
			k, isIdx := arrayIndex(l.name(&l.members[at]))
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
		l.index[l.name(&l.members[i])] = i
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
		v := goja.Value(goja.Undefined())
		if !l.stale() {
			d := &l.d.jsonDecoder
			d.pos = int(m.span)
			if x, err := d.value(0); err == nil && x != nil { // always: the payload was checked
				v = x
			}
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
	l.insert(key, v)
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
		keys[i] = l.name(&l.members[i])
	}
	return keys
}
