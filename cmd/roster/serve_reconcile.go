package main

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// reconcileAll runs the tenant repairs of 'roster tenant reconcile' on
// every tenant, logging what it repaired: a crash between two store steps
// (a member written, its seat not yet counted) can leave a counter off.
// It stops early when ctx ends.
//
// It repairs at most concurrency tenants at once (0 skips it), so that a
// server starting on thousands of tenants does not take every store
// connection from the requests it serves meanwhile. Each repair is safe
// beside live writes of its tenant: the store's recount never takes a
// seat from a write in flight (sdk.Client.Reconcile), and the counter it
// leaves equals the members holding seats once the writes settle
// (TestReconcileBesideLiveWrites).
func reconcileAll(ctx context.Context, c *sdk.Client, log *slog.Logger, concurrency int, m *metrics) {
	if concurrency <= 0 {
		log.Info("reconcile: skipped at start-up (--reconcile-concurrency 0); run 'roster tenant reconcile' to repair a tenant")
		return
	}
	start := time.Now()
	var tenants, repaired, failed atomic.Int64
	work := make(chan *sdk.Tenant)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for t := range work {
				res, err := reconcileTenant(ctx, c, t)
				if ctx.Err() != nil {
					continue // drain: the lister stops sending
				}
				tenants.Add(1)
				switch {
				case err != nil:
					failed.Add(1)
					m.reconciled.WithLabelValues("failed").Inc()
					if isStoreError(err) {
						m.storeErrors.WithLabelValues("reconcile").Inc()
					}
					log.Warn("reconcile: failed; run 'roster tenant reconcile' to retry", "tenant", t.Slug, "err", err)
				case res.repaired():
					repaired.Add(1)
					m.reconciled.WithLabelValues("repaired").Inc()
					log.Info("reconcile: "+res.String(), "tenant", t.Slug)
				default:
					m.reconciled.WithLabelValues("ok").Inc()
				}
			}
		})
	}
	listed := listTenants(ctx, c, log, m, work)
	close(work)
	wg.Wait()
	if !listed || ctx.Err() != nil {
		return
	}
	log.Info("reconcile: done", "tenants", tenants.Load(), "repaired", repaired.Load(), "failed", failed.Load(),
		"took", time.Since(start).Round(time.Millisecond))
}

// listTenants sends every tenant to work, page by page; it reports whether
// it listed them all.
func listTenants(ctx context.Context, c *sdk.Client, log *slog.Logger, m *metrics, work chan<- *sdk.Tenant) bool {
	opts := sdk.ListOptions{PageSize: sdk.MaxPageSize}
	for {
		p, err := c.ListTenants(ctx, opts)
		if err != nil {
			if ctx.Err() == nil {
				if isStoreError(err) {
					m.storeErrors.WithLabelValues("reconcile").Inc()
				}
				log.Warn("reconcile: listing tenants failed", "err", err)
			}
			return false
		}
		for _, t := range p.Items {
			select {
			case work <- t:
			case <-ctx.Done():
				return false
			}
		}
		if p.NextCursor == "" {
			return true
		}
		opts.Cursor = p.NextCursor
	}
}
