// Package layering holds the test that keeps hookshift's imports to the
// layers ARCHITECTURE.md draws ("Who may import whom"). It has no code.
package layering
