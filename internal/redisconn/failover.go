package redisconn

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// FollowFailover makes a cluster client re-read the cluster's slots as soon
// as a node stops answering, instead of waiting for its periodic reload.
// go-redis reloads on MOVED, but a killed master answers nothing at all, so
// without this the client keeps dialing it for ClusterStateReloadInterval
// (60 s by default since go-redis v9.22; redis/go-redis#3979) after its
// replica took over. Target.Client calls it on every cluster client;
// TestClusterMasterKilledUnderLoad (httpapi) fails without it.
func FollowFailover(cc *redis.ClusterClient) { cc.AddHook(failoverHook{cc}) }

type failoverHook struct{ cc *redis.ClusterClient }

func (failoverHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h failoverHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(err)
		return err
	}
}

func (h failoverHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(err)
		return err
	}
}

// check asks for a reload (coalesced by go-redis) after an error that
// means a node is gone or the cluster is changing.
func (h failoverHook) check(err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.HasPrefix(err.Error(), "CLUSTERDOWN") || strings.Contains(err.Error(), "connection refused") {
		h.cc.ReloadState(context.Background())
	}
}
