package store

import (
	"bytes"
	_ "embed" // the payload dictionary
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Payloads are stored once per event, compressed with zstd and a dictionary
// trained on webhook bodies (payload.dict, built from testdata/ by
// TestTrainPayloadDict). Small JSON compresses poorly on its own: most of a
// 1.7 kB Dodo event is field names and structure every event repeats, which
// the dictionary supplies. A stored payload that is not a zstd frame (one
// written before compression, or one that would not shrink) is read as it is:
// JSON never starts with zstd's magic bytes.

// payloadDict is the shipped dictionary. Its id (payloadDictID) is written in
// every frame: a retrained dictionary must get a new id, and the old one must
// stay listed in codec's decoder for as long as the retention keeps payloads
// compressed with it.
//
//go:embed payload.dict
var payloadDict []byte

// payloadDictID is the id written into payload.dict (outside the range zstd
// reserves, below 32768, and the range it asks private dictionaries to avoid,
// above 2^31).
const payloadDictID = 0x68730001

// zstdMagic starts every zstd frame.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// maxPayloadDecoded bounds what one stored payload may decompress to; the
// receiver's body cap is far smaller.
const maxPayloadDecoded = 64 << 20

// payloadCodec is the encoder and decoder, built once per process: building
// them reads the dictionary into tables. Both are safe for concurrent use
// and never change after construction, so they are shared state only in the
// sense that a constant is.
var payloadCodec = sync.OnceValues(func() (*codec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDict(payloadDict), zstd.WithEncoderCRC(false),
		zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(4))
	if err != nil {
		return nil, fmt.Errorf("payload encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDicts(payloadDict), zstd.WithDecoderConcurrency(4),
		zstd.WithDecoderMaxMemory(maxPayloadDecoded))
	if err != nil {
		return nil, fmt.Errorf("payload decoder: %w", err)
	}
	return &codec{enc: enc, dec: dec}, nil
})

type codec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// encodePayload is a payload as stored: a zstd frame when that is smaller,
// else the payload itself.
func encodePayload(p []byte) ([]byte, error) {
	c, err := payloadCodec()
	if err != nil {
		return nil, err
	}
	z := c.enc.EncodeAll(p, make([]byte, 0, len(p)/2+16))
	if len(z) >= len(p) {
		return p, nil
	}
	return z, nil
}

// decodePayload reads a stored payload, compressed or not.
func decodePayload(b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, zstdMagic) {
		return b, nil
	}
	c, err := payloadCodec()
	if err != nil {
		return nil, err
	}
	out, err := c.dec.DecodeAll(b, make([]byte, 0, 4*len(b)))
	if err != nil {
		return nil, fmt.Errorf("decompress payload: %w", err)
	}
	return out, nil
}
