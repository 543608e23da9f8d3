package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Slot is the Redis Cluster hash slot of key: CRC16 (XMODEM) of the key, or
// of its hash tag (the text between the first "{" and the next "}", when
// not empty), modulo 16384, as Redis computes it.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc & 16383)
}

// GuardSlots makes c refuse, as Redis Cluster would, every Lua script, every
// MULTI block and every multi-key command whose keys are not all in one
// hash slot, and calls report with what was refused. Tests install it on a
// single Redis so that a write that could not run on a cluster fails there
// too (a cluster client splits a MULTI by slot without a word, so only this
// check sees a MULTI that spans slots).
func GuardSlots(c redis.UniversalClient, report func(msg string)) {
	c.AddHook(slotGuard{report})
}

type slotGuard struct{ report func(string) }

func (slotGuard) DialHook(next redis.DialHook) redis.DialHook { return next }

func (g slotGuard) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := g.check([]redis.Cmder{cmd}, false); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (g slotGuard) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		tx := len(cmds) > 0 && strings.EqualFold(cmds[0].Name(), "multi")
		if err := g.check(cmds, tx); err != nil {
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}

// check refuses a command whose keys span slots, and with tx set, a block
// whose commands' keys do.
func (g slotGuard) check(cmds []redis.Cmder, tx bool) error {
	block := map[int]string{}
	for _, c := range cmds {
		own := map[int]string{}
		for _, k := range Keys(c.Args()) {
			own[Slot(k)] = k
			block[Slot(k)] = k
		}
		if len(own) > 1 {
			return g.refuse(fmt.Sprintf("%s touches %d hash slots: %s", c.Name(), len(own), keysOf(own)))
		}
	}
	if tx && len(block) > 1 {
		return g.refuse(fmt.Sprintf("MULTI block touches %d hash slots: %s", len(block), keysOf(block)))
	}
	return nil
}

func (g slotGuard) refuse(msg string) error {
	if g.report != nil {
		g.report(msg)
	}
	return fmt.Errorf("CROSSSLOT (redistest.GuardSlots): %s", msg)
}

func keysOf(m map[int]string) string {
	var ks []string
	for s, k := range m {
		ks = append(ks, k+" (slot "+strconv.Itoa(s)+")")
	}
	return strings.Join(ks, ", ")
}

// allKeys are commands whose every argument after the name is a key.
var allKeys = map[string]bool{"del": true, "unlink": true, "exists": true, "mget": true, "touch": true,
	"watch": true, "sinter": true, "sunion": true, "sdiff": true, "rename": true}

// noKeys are commands (of those hookshift and asynq use) that name no key.
var noKeys = map[string]bool{"multi": true, "exec": true, "discard": true, "unwatch": true, "ping": true,
	"info": true, "time": true, "script": true, "hello": true, "select": true, "client": true, "cluster": true,
	"wait": true, "scan": true, "keys": true, "dbsize": true, "flushall": true, "flushdb": true, "config": true,
	"command": true, "readonly": true, "auth": true, "echo": true, "memory": true, "function": true}

// Keys are the key arguments of a command, as far as this guard knows:
// the keys of EVAL/EVALSHA/FCALL, every argument of the multi-key commands
// above, else the first argument.
func Keys(args []any) []string {
	if len(args) < 2 {
		return nil
	}
	name := strings.ToLower(fmt.Sprint(args[0]))
	str := func(a any) string {
		switch v := a.(type) {
		case string:
			return v
		case []byte:
			return string(v)
		}
		return fmt.Sprint(a)
	}
	switch {
	case name == "eval" || name == "evalsha" || name == "eval_ro" || name == "evalsha_ro" || name == "fcall" || name == "fcall_ro":
		if len(args) < 3 {
			return nil
		}
		n, err := strconv.Atoi(str(args[2]))
		if err != nil {
			return nil
		}
		out := make([]string, 0, n)
		for i := 3; i < 3+n && i < len(args); i++ {
			out = append(out, str(args[i]))
		}
		return out
	case allKeys[name]:
		out := make([]string, 0, len(args)-1)
		for _, a := range args[1:] {
			out = append(out, str(a))
		}
		return out
	case noKeys[name]:
		return nil
	}
	return []string{str(args[1])}
}
