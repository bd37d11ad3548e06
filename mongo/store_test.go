package mongo

import (
	"testing"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sdk.Store { return openStore(t) })
}
