package store

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Every Redis key hookshift writes (asynq's own aside) is built here, so the
// whole layout and its hash tags read in one screen. P is Options.Prefix
// ("hookshift:"). The part in braces is the Redis Cluster hash tag: keys
// with the same tag live in the same slot, so a Lua script or a MULTI may
// touch them together. No script or MULTI touches two tags (every store test
// runs under redistest.GuardSlots); writes that span tags are listed in
// ARCHITECTURE.md.
//
//	slot {t:TENANT}: a tenant's configuration and its event indexes
//	P{t:ID}:tenant                     str   tenant JSON, with its token's hash
//	P{t:ID}:sources                    set   source ids (its SCARD is the source quota)
//	P{t:ID}:dests                      set   destination ids (its SCARD is the destination quota)
//	P{t:ID}:events                     zset  event ids by received ms
//	P{t:ID}:ix:KIND:SHA256             zset  search index of one type/source/customer/email/payment
//	P{t:ID}:alerts                     str   alert settings JSON (alerts.go)
//
//	slot {s:SOURCE}: a source (the receiver knows only the source id)
//	P{s:ID}:source                     str   source JSON, secrets sealed
//	P{s:ID}:dests                      set   destination ids of a source
//
//	slot {d:DEST}: a destination and everything per destination
//	P{d:ID}:dest                       str   destination JSON, URL/config/headers/env sealed
//	P{d:ID}:rate                       str   GCRA throttle state
//	P{d:ID}:health                     str   failure run and circuit
//	P{d:ID}:probe                      str   half-open circuit probe lease
//	P{d:ID}:failed                     zset  failed deliveries' event ids by failure ms
//	P{d:ID}:versions                   hash  transform history
//	P{d:ID}:alert:TYPE                 str   open alert window's id (ms), expiring with it
//	P{d:ID}:alert:TYPE:held            hash  held-back alerts: count, last event_id and reason
//	P{d:ID}:alert:TYPE:flushed         hash  what a flush handed over, until its alert is queued
//
//	slot {e:EVENT}: an event, one key (eventstate.go)
//	P{e:ID}:event                      str   meta, zstd payload, receipt, deliveries and their attempts, for the event retention
//	P{e:ID}:dedupe                     str   receipt, only when the dedupe window outlasts the retention
//	P{e:ID}:sending:DEST               str   send lease of one delivery: the run sending it now (ClaimDelivery)
//	P{e:ID}:deliveries                 hash  old form (before one key per event): delivery state per destination
//	P{e:ID}:attempts:DEST              list  old form: attempts of one delivery
//
//	untagged: one key each, never written together with another
//	P tenants                          set   every tenant id (GET /v1/tenants)
//	P token:SHA256(token)              str   tenant id of a token
//	P portal:SHA256                    str   single-use console sign-in link
//	P session:SHA256                   str   console session
//	P layout                           str   "2" once this layout is in place (migrate.go)
//
//	slot {QUEUE}: beside asynq's own keys of a queue (asynq:{QUEUE}:...)
//	P{QUEUE}:ack-barrier               str   durable ack's barrier write on a cluster (queue/ack.go)
//
// The layout before hash tags (version 1) is at the end of this file; migrate.go
// copies it to this one.

func (s *Store) tTenant(id string) string { return s.opts.Prefix + "{t:" + id + "}:" }
func (s *Store) tSource(id string) string { return s.opts.Prefix + "{s:" + id + "}:" }
func (s *Store) tDest(id string) string   { return s.destTagStart() + id + "}:" }
func (s *Store) tEvent(id string) string  { return s.opts.Prefix + "{e:" + id + "}:" }

// destTagStart begins every destination key: DestinationCensus scans for it.
func (s *Store) destTagStart() string { return s.opts.Prefix + "{d:" }

func (s *Store) kTenants() string                { return s.opts.Prefix + "tenants" }
func (s *Store) kTenantToken(hash string) string { return s.opts.Prefix + "token:" + hash }
func (s *Store) kLayout() string                 { return s.opts.Prefix + "layout" }

func (s *Store) kTenant(id string) string        { return s.tTenant(id) + "tenant" }
func (s *Store) kTenantSources(id string) string { return s.tTenant(id) + "sources" }
func (s *Store) kTenantDests(id string) string   { return s.tTenant(id) + "dests" }
func (s *Store) kTenantEvents(id string) string  { return s.tTenant(id) + "events" }

// kIndex is the search index of a tenant's events by one value of a kind.
// The value is hashed: search input comes from merchants and payloads, and
// must not shape key names (length, a prefix of another key, a hash tag).
func (s *Store) kIndex(tenantID, kind, value string) string {
	sum := sha256.Sum256([]byte(value))
	return s.tTenant(tenantID) + "ix:" + kind + ":" + hex.EncodeToString(sum[:16])
}

func (s *Store) kSource(id string) string      { return s.tSource(id) + "source" }
func (s *Store) kSourceDests(id string) string { return s.tSource(id) + "dests" }

func (s *Store) kDest(id string) string       { return s.tDest(id) + "dest" }
func (s *Store) kRate(id string) string       { return s.tDest(id) + "rate" }
func (s *Store) kHealth(id string) string     { return s.tDest(id) + "health" }
func (s *Store) kProbe(id string) string      { return s.tDest(id) + "probe" }
func (s *Store) kDestFailed(id string) string { return s.tDest(id) + "failed" }

// kVersions is a destination's transform history (versions.go).
func (s *Store) kVersions(destID string) string { return s.tDest(destID) + "versions" }

func (s *Store) kEvent(id string) string           { return s.tEvent(id) + "event" }
func (s *Store) kDedupe(eventID string) string     { return s.tEvent(eventID) + "dedupe" }
func (s *Store) kDeliveries(eventID string) string { return s.tEvent(eventID) + "deliveries" }
func (s *Store) kSending(eventID, destID string) string {
	return s.tEvent(eventID) + "sending:" + destID
}
func (s *Store) kAttempts(eventID, destID string) string {
	return s.tEvent(eventID) + "attempts:" + destID
}

// Alerts (alerts.go): a tenant's alert settings, and per destination and
// operational event type the window that lets one alert through and what it
// held back; both window keys are in the destination's slot, for one script.
func (s *Store) kTenantAlerts(id string) string { return s.tTenant(id) + "alerts" }
func (s *Store) kAlertWindow(destID, typ string) string {
	return s.tDest(destID) + "alert:" + typ
}
func (s *Store) kAlertHeld(destID, typ string) string {
	return s.tDest(destID) + "alert:" + typ + ":held"
}

// kAlertFlushed is what a flush took from kAlertHeld, kept until the alert
// that carries it is queued (AckAlertFlush), so a flush run again sends it.
func (s *Store) kAlertFlushed(destID, typ string) string {
	return s.tDest(destID) + "alert:" + typ + ":flushed"
}

// AckBarrierKey is the key queue's durable acknowledgement writes, with
// WAIT, on a cluster: in the slot of asynq's keys of queue, so on the master
// that holds its tasks. It expires by itself.
func AckBarrierKey(queue string) string { return "hookshift:{" + queue + "}:ack-barrier" }

// kPortalLink holds the tenant id a single-use console sign-in link is for
// (sessions.go); kSession a console session. Both are keyed by a SHA-256.
func (s *Store) kPortalLink(hash string) string { return s.opts.Prefix + "portal:" + hash }
func (s *Store) kSession(hash string) string    { return s.opts.Prefix + "session:" + hash }

// Layout version 1 (before hash tags): P tenant:ID[:sources|:dests|:events|
// :alerts|:ix:KIND:SHA256], P source:ID[:dests], P dest:ID[:rate|:health|
// :probe|:failed|:versions|:alert:TYPE[:held]], P event:ID[:deliveries|
// :attempts:DEST], P dedupe:ID.
// P tenants, P token:, P portal: and P session: kept their names.

// layout1Patterns are SCAN patterns that find every key of layout 1.
func (s *Store) layout1Patterns() []string {
	p := s.opts.Prefix
	return []string{p + "tenant:*", p + "source:*", p + "dest:*", p + "event:*", p + "dedupe:*",
		p + "tenants", p + "token:*", p + "portal:*", p + "session:*"}
}

// keptName reports a layout-1 key whose name did not change.
func (s *Store) keptName(key string) bool {
	rest, _ := strings.CutPrefix(key, s.opts.Prefix)
	kind, _, _ := strings.Cut(rest, ":")
	return rest == "tenants" || kind == "token" || kind == "portal" || kind == "session"
}

// fromLayout1 is the name in this layout of a layout-1 key, and false for a
// key that is not one (such as a key of this layout).
func (s *Store) fromLayout1(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.opts.Prefix)
	if !ok || strings.ContainsAny(rest, "{}") {
		return "", false
	}
	kind, rest, _ := strings.Cut(rest, ":")
	id, suffix, _ := strings.Cut(rest, ":")
	if id == "" {
		return "", false
	}
	switch kind {
	case "tenant":
		if suffix == "" {
			return s.kTenant(id), true
		}
		return s.tTenant(id) + suffix, true
	case "source":
		if suffix == "" {
			return s.kSource(id), true
		}
		return s.tSource(id) + suffix, true
	case "dest":
		if suffix == "" {
			return s.kDest(id), true
		}
		return s.tDest(id) + suffix, true
	case "event":
		if suffix == "" {
			return s.kEvent(id), true
		}
		return s.tEvent(id) + suffix, true
	case "dedupe":
		if suffix == "" {
			return s.kDedupe(id), true
		}
	}
	return "", false
}
