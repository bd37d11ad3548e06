package sdk

import (
	"strconv"
	"testing"
	"time"
)

// A read that raced with a newer one does not replace the newer snapshot;
// one of the same version (seat counts moved) does.
func TestTenantCacheKeepsTheNewestVersion(t *testing.T) {
	var tc tenantCache
	tc.putAt(&Tenant{ID: "t", Version: 2, SeatsUsed: 1}, time.Time{})
	tc.putAt(&Tenant{ID: "t", Version: 1, SeatsUsed: 5}, time.Time{})
	if got := tc.get("t"); got.Version != 2 || got.SeatsUsed != 1 {
		t.Fatalf("after an older put: %+v", got)
	}
	tc.putAt(&Tenant{ID: "t", Version: 2, SeatsUsed: 3}, time.Time{})
	if got := tc.get("t"); got.SeatsUsed != 3 {
		t.Fatalf("a put of the same version did not refresh seats: %+v", got)
	}
	for i := range tenantCacheSize + 10 {
		tc.putAt(&Tenant{ID: strconv.Itoa(i), Version: 1}, time.Time{})
	}
	if n := len(tc.m); n > tenantCacheSize {
		t.Fatalf("%d snapshots kept, bound %d", n, tenantCacheSize)
	}
}
