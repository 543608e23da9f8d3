package store

import (
	"crypto/sha256"
	"encoding/hex"
)

// Every Redis key hookshift writes (asynq's own aside) is built here, so the
// whole layout reads in one screen. P is Options.Prefix ("hookshift:"). No
// key carries a cluster hash tag today.
//
//	P tenants                          set   every tenant id (GET /v1/tenants)
//	P tenant:{id}                      str   tenant JSON, with its token's hash
//	P token:{sha256(token)}            str   tenant id of a token
//	P tenant:{id}:sources              set   source ids (its SCARD is the source quota)
//	P tenant:{id}:dests                set   destination ids (its SCARD is the destination quota)
//	P tenant:{id}:events               zset  event ids by received ms
//	P tenant:{id}:ix:{kind}:{sha256}   zset  search index of one type/source/customer/email/payment
//	P source:{id}                      str   source JSON, secrets sealed
//	P source:{id}:dests                set   destination ids of a source
//	P dest:{id}                        str   destination JSON, URL/config/headers/env sealed
//	P dest:{id}:rate                   str   GCRA throttle state
//	P dest:{id}:health                 str   failure run and circuit
//	P dest:{id}:probe                  str   half-open circuit probe lease
//	P dest:{id}:failed                 zset  failed deliveries' event ids by failure ms
//	P event:{id}                       hash  meta and payload, for the event retention
//	P event:{id}:deliveries            hash  delivery state per destination
//	P event:{id}:attempts:{dest}       list  attempts of one delivery
//	P dedupe:{id}                      str   receipt that recorded the event, for the dedupe window

func (s *Store) kTenants() string                { return s.opts.Prefix + "tenants" }
func (s *Store) kTenant(id string) string        { return s.opts.Prefix + "tenant:" + id }
func (s *Store) kTenantToken(hash string) string { return s.opts.Prefix + "token:" + hash }
func (s *Store) kTenantSources(id string) string { return s.opts.Prefix + "tenant:" + id + ":sources" }
func (s *Store) kTenantDests(id string) string   { return s.opts.Prefix + "tenant:" + id + ":dests" }
func (s *Store) kTenantEvents(id string) string  { return s.opts.Prefix + "tenant:" + id + ":events" }

// kIndex is the search index of a tenant's events by one value of a kind.
// The value is hashed: search input comes from merchants and payloads, and
// must not shape key names (length, a prefix of another key, a hash tag).
func (s *Store) kIndex(tenantID, kind, value string) string {
	sum := sha256.Sum256([]byte(value))
	return s.opts.Prefix + "tenant:" + tenantID + ":ix:" + kind + ":" + hex.EncodeToString(sum[:16])
}

func (s *Store) kSource(id string) string      { return s.opts.Prefix + "source:" + id }
func (s *Store) kSourceDests(id string) string { return s.opts.Prefix + "source:" + id + ":dests" }

func (s *Store) kDest(id string) string       { return s.opts.Prefix + "dest:" + id }
func (s *Store) kRate(id string) string       { return s.opts.Prefix + "dest:" + id + ":rate" }
func (s *Store) kHealth(id string) string     { return s.opts.Prefix + "dest:" + id + ":health" }
func (s *Store) kProbe(id string) string      { return s.opts.Prefix + "dest:" + id + ":probe" }
func (s *Store) kDestFailed(id string) string { return s.opts.Prefix + "dest:" + id + ":failed" }

func (s *Store) kEvent(id string) string { return s.opts.Prefix + "event:" + id }
func (s *Store) kDeliveries(eventID string) string {
	return s.opts.Prefix + "event:" + eventID + ":deliveries"
}
func (s *Store) kAttempts(eventID, destID string) string {
	return s.opts.Prefix + "event:" + eventID + ":attempts:" + destID
}
func (s *Store) kDedupe(eventID string) string { return s.opts.Prefix + "dedupe:" + eventID }

// kVersions is a destination's transform history (versions.go).
func (s *Store) kVersions(destID string) string {
	return s.opts.Prefix + "dest:" + destID + ":versions"
}

// kPortalLink holds the tenant id a single-use console sign-in link is for
// (sessions.go); kSession a console session. Both are keyed by a SHA-256.
func (s *Store) kPortalLink(hash string) string { return s.opts.Prefix + "portal:" + hash }
func (s *Store) kSession(hash string) string    { return s.opts.Prefix + "session:" + hash }

// Alerts (alerts.go): a tenant's alert settings, and per destination and
// operational event type the window that lets one alert through and what it
// held back. The window keys sit under the destination's own dest:{id}.
//
//	P tenant:{id}:alerts               str   alert settings JSON
//	P dest:{id}:alert:{type}           str   open window's id (ms), expiring with it
//	P dest:{id}:alert:{type}:held      hash  held-back alerts: count, last event_id and reason

func (s *Store) kTenantAlerts(id string) string { return s.opts.Prefix + "tenant:" + id + ":alerts" }
func (s *Store) kAlertWindow(destID, typ string) string {
	return s.opts.Prefix + "dest:" + destID + ":alert:" + typ
}
func (s *Store) kAlertHeld(destID, typ string) string {
	return s.opts.Prefix + "dest:" + destID + ":alert:" + typ + ":held"
}
