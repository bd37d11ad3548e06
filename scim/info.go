package scim

import "context"

// RequestInfo is what a [Handler] learned about one request, for the
// access logs and metrics of the server that mounts it: which tenant and
// token it was for, which resource and route it reached, and why it
// failed. None of it is secret: TokenID is the token's id, never the
// token, and nothing of the request body is kept.
//
// Install one in the request context with [WithRequestInfo] before the
// request reaches the handler; the handler fills it in as it serves, and
// it is complete when ServeHTTP returns. A request without one is served
// the same way.
type RequestInfo struct {
	// Tenant is the tenant slug from the path, set as soon as the route
	// matched, whether or not the tenant exists.
	Tenant string
	// TokenID is the id of the SCIM token that authenticated the request
	// ([sdk.Token].ID), or "" when authentication failed.
	TokenID string
	// Resource is "Users" or "Groups" for those endpoints (.search
	// included), "discovery" for ServiceProviderConfig, Schemas and
	// ResourceTypes (RFC 7644 §4), and "" for anything else (an unknown
	// path, an endpoint that is not offered).
	Resource string
	// Route is the template of the route that matched, such as
	// "/scim/v2/{tenant}/Users/{id}" (with the handler's path prefix), or
	// "" when none did. It has a bounded set of values, unlike the path.
	Route string
	// Throttled reports that the per-token rate limit refused the request
	// (429, see [WithRateLimit]).
	Throttled bool
	// Err is the cause of a server error (a 5xx response): a store
	// failure, a context that ended, a host hook that failed. It is nil
	// for other responses, and for a panic (which the handler logs).
	// Clients never see it.
	Err error
}

type infoKey struct{}

// WithRequestInfo returns a copy of ctx carrying a new [RequestInfo], and
// that RequestInfo. Serve the request with the returned context, then read
// the RequestInfo once the handler has returned:
//
//	ctx, info := scim.WithRequestInfo(r.Context())
//	h.ServeHTTP(w, r.WithContext(ctx))
//	log.Info("request", "tenant", info.Tenant, "token", info.TokenID)
//
// The handler writes to the RequestInfo from the goroutine that serves the
// request; reading it there after ServeHTTP returns needs no lock.
func WithRequestInfo(ctx context.Context) (context.Context, *RequestInfo) {
	info := &RequestInfo{}
	return context.WithValue(ctx, infoKey{}, info), info
}

// requestInfo returns the RequestInfo of ctx, or a throwaway one so that
// the handler can fill it in unconditionally.
func requestInfo(ctx context.Context) *RequestInfo {
	if info, ok := ctx.Value(infoKey{}).(*RequestInfo); ok {
		return info
	}
	return &RequestInfo{}
}

// resourceOf names the resource of a route path below the tenant, such as
// "/Users/{id}", for [RequestInfo].Resource.
func resourceOf(path string) string {
	switch path {
	case "/Users", "/Users/.search", "/Users/{id}":
		return "Users"
	case "/Groups", "/Groups/.search", "/Groups/{id}":
		return "Groups"
	case "/ServiceProviderConfig", "/Schemas", "/Schemas/{id}", "/ResourceTypes", "/ResourceTypes/{id}":
		return "discovery"
	}
	return ""
}
