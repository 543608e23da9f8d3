package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts secrets at rest with AES-256-GCM. The key is derived from
// HOOKSHIFT_SECRET_KEY, so any string of reasonable length works as a key.
type Sealer struct {
	aead cipher.AEAD
}

const sealPrefix = "v1:"

// NewSealer derives an AES-256 key from secretKey. It refuses keys shorter
// than 16 characters, which would be guessable.
func NewSealer(secretKey string) (*Sealer, error) {
	if len(secretKey) < 16 {
		return nil, fmt.Errorf("secret key must be at least 16 characters, got %d", len(secretKey))
	}
	sum := sha256.Sum256([]byte("hookshift-seal-v1:" + secretKey))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext; the result is safe to store.
func (s *Sealer) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plaintext, nil)
	return sealPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal produced. A wrong key is reported as such, without
// revealing anything about the data.
func (s *Sealer) Open(sealed string) ([]byte, error) {
	if !strings.HasPrefix(sealed, sealPrefix) {
		return nil, errors.New("open sealed value: unknown format")
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[len(sealPrefix):])
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("open sealed value: corrupt")
	}
	n := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return nil, errors.New("open sealed value: wrong HOOKSHIFT_SECRET_KEY or corrupt data")
	}
	return pt, nil
}
