package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/rosterhq/roster/sdk/memstore"
)

func main() {
	addr := os.Getenv("HOSTAPP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8090"
	}
	app, err := NewDemoApp(context.Background(), memstore.New())
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("hostapp listening: open http://%s/ to sign in as a member of the demo tenant and manage the team at /team/ (the JSON API: POST /signup, /login, /accept)", addr)
	log.Fatal(http.ListenAndServe(addr, app.Handler()))
}
