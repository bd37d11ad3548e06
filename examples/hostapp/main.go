package main

import (
	"log"
	"net/http"
	"os"

	"github.com/rosterhq/roster/sdk"
	"github.com/rosterhq/roster/sdk/memstore"
)

func main() {
	addr := os.Getenv("HOSTAPP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	app := NewApp(sdk.New(memstore.New()))
	log.Printf("hostapp listening on http://%s (POST /signup to begin)", addr)
	log.Fatal(http.ListenAndServe(addr, app.Handler()))
}
