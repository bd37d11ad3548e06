package integration

import (
	"context"
	"testing"
	"time"

	"github.com/rosterhq/roster/mongo"
	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/storetest"
)

// TestStoreConformance runs the store conformance suite on the server
// under test, a fresh database per store. When that server is FerretDB (the
// integration image CI builds where no MongoDB image can be pulled), the
// store is wrapped with embedded.Serialize, as the mongo package's tests
// wrap FerretDB: FerretDB v1's conditional updates are not atomic, and
// the suite's races would fail on it. On MongoDB the store runs bare.
func TestStoreConformance(t *testing.T) {
	uri := mongoURI(t)
	storetest.Run(t, func(t *testing.T) sdk.Store {
		d := database{uri: uri, name: dbName(t)}
		s, err := mongo.Open(t.Context(), d.uri, d.name)
		if err != nil {
			t.Fatalf("mongo.Open: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := s.Database().Drop(ctx); err != nil {
				t.Logf("dropping %s: %v", d.name, err)
			}
			_ = s.Close(ctx)
		})
		return serializeOnFerretDB(t, s)
	})
}
