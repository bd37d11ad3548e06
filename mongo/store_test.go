package mongo

import (
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/storetest"
)

// TestConformance runs the suite on FerretDB behind embedded.Serialize.
// The suite's races, the Interleaving and Concurrency groups, run on that
// very stack in internal/embedded's TestConformance, and on the Docker
// database in the integration suite; this package's own seat and claim
// protocol tests pause inside its methods, which the suite cannot.
func TestConformance(t *testing.T) {
	t.Parallel() // see ferretURI
	storetest.Run(t, func(t *testing.T) sdk.Store { return openStore(t) }, storetest.Skip("Interleaving", "Concurrency"))
}
