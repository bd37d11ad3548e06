package memstore_test

import (
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
	"github.com/rosterhq/roster/sdk/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sdk.Store { return memstore.New() })
}
