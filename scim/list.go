package scim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/sdk"
)

// listParams are the query parameters of a list or search (RFC 7644
// §3.4.2 and §3.4.3).
type listParams struct {
	filter     string
	startIndex int // 1-based
	count      int
	proj       projection
}

// queryParams reads GET parameters. sortBy and sortOrder are ignored:
// results come in a stable order of creation, and ServiceProviderConfig
// says sorting is not supported (RFC 7644 §3.4.2.3).
func (h *Handler) queryParams(r *http.Request) (listParams, error) {
	q := r.URL.Query()
	lp := listParams{filter: q.Get("filter"), startIndex: 1, count: h.maxResults}
	var err error
	if v := q.Get("startIndex"); v != "" {
		if lp.startIndex, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return lp, badRequest(typeInvalidValue, "startIndex must be an integer.")
		}
	}
	if v := q.Get("count"); v != "" {
		if lp.count, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return lp, badRequest(typeInvalidValue, "count must be an integer.")
		}
	}
	lp.clamp(h.maxResults)
	lp.proj, err = projectionFromQuery(r)
	return lp, err
}

// clamp applies RFC 7644 §3.4.2.4: a startIndex below 1 is 1, a negative
// count is 0, and count is capped at the server's maximum.
func (lp *listParams) clamp(maxResults int) {
	lp.startIndex = max(lp.startIndex, 1)
	lp.count = min(max(lp.count, 0), maxResults)
}

// searchParams reads a POST …/.search body (RFC 7644 §3.4.3).
func (h *Handler) searchParams(body []byte) (listParams, error) {
	var sr struct {
		Schemas            []string    `json:"schemas"`
		Attributes         []string    `json:"attributes"`
		ExcludedAttributes []string    `json:"excludedAttributes"`
		Filter             string      `json:"filter"`
		SortBy             string      `json:"sortBy"`
		SortOrder          string      `json:"sortOrder"`
		StartIndex         json.Number `json:"startIndex"`
		Count              json.Number `json:"count"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&sr); err != nil {
		return listParams{}, badRequest(typeInvalidSyntax, "The search request is not a JSON object of the SearchRequest schema.")
	}
	found := false
	for _, s := range sr.Schemas {
		found = found || s == searchURN
	}
	if !found {
		return listParams{}, badRequest(typeInvalidValue, "schemas must contain %q.", searchURN)
	}
	lp := listParams{filter: sr.Filter, startIndex: 1, count: h.maxResults}
	var err error
	if sr.StartIndex != "" {
		n, err := sr.StartIndex.Int64()
		if err != nil {
			return lp, badRequest(typeInvalidValue, "startIndex must be an integer.")
		}
		lp.startIndex = int(max(min(n, 1<<31), -1))
	}
	if sr.Count != "" {
		n, err := sr.Count.Int64()
		if err != nil {
			return lp, badRequest(typeInvalidValue, "count must be an integer.")
		}
		lp.count = int(max(min(n, 1<<31), -1))
	}
	lp.clamp(h.maxResults)
	lp.proj, err = parseProjection(sr.Attributes, sr.ExcludedAttributes)
	return lp, err
}

// listResponse is RFC 7644 §3.4.2's ListResponse. Resources is never null.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request, req *request) {
	lp, err := h.queryParams(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	h.serveUsers(w, r, req, lp)
}

func (h *Handler) searchUsers(w http.ResponseWriter, r *http.Request, req *request) {
	lp, err := h.searchParams(req.body)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	h.serveUsers(w, r, req, lp)
}

// serveUsers answers a list or search of Users: filter translated to the
// SDK's AST, exact totalResults, stable id order, and startIndex served by
// position (see page). Paging is stateless: any server answers any page of
// a walk with 2 store commands whatever startIndex is — one list, one
// count — plus one for the members' group ids when groups are returned
// and the store does not keep them on the member.
func (h *Handler) serveUsers(w http.ResponseWriter, r *http.Request, req *request, lp listParams) {
	ctx := r.Context()
	s := h.schemaFor(ctx, req)
	where, err := userFilter(s, lp.filter)
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	items, total, err := page(lp,
		func(offset, size int) (*sdk.Page[*sdk.Member], int, error) {
			return h.client.SearchMembers(ctx, req.tenantID, sdk.MemberSearch{
				Where: where, ListOptions: sdk.ListOptions{PageSize: size}, Offset: offset, Total: true,
			})
		},
		func() (int, error) { return h.client.CountMembersMatching(ctx, req.tenantID, where) })
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	var groups map[string][]string
	if len(items) > 0 && lp.proj.wants("groups") {
		groups, err = h.client.GroupIDsOfMembers(ctx, req.tenantID, items)
		if err != nil {
			writeError(w, h.fail(r, err))
			return
		}
	}
	v := userView{base: req.base, proj: lp.proj}
	for _, m := range items {
		if len(m.Custom) > 0 {
			if v.ext, err = s.extension(); err != nil {
				writeError(w, h.fail(r, err))
				return
			}
			break
		}
	}
	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"schemas":["`+listURN+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(lp.startIndex), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(items)), 10)
	b = append(b, `,"Resources":[`...)
	for i, m := range items {
		if i > 0 {
			b = append(b, ',')
		}
		v.groups = groups[m.ID]
		b = appendUser(b, m, &v)
	}
	b = append(b, "]}"...)
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		bufPool.Put(bp)
	}
}

// page returns the items of a list that startIndex and count select and
// the list's exact total (RFC 7644 §3.4.2.4). SCIM pages by position, and
// so does the SDK (Offset, startIndex-1): the store skips to the position
// in its id index, so a page costs one list and one count at any depth,
// and needs nothing from the pages before it — behind a load balancer any
// server answers any page. A write between two pages shifts the positions
// after it, as SCIM's positional paging does by nature. count=0 asks for
// the total alone: one count.
func page[T any](lp listParams, list func(offset, size int) (*sdk.Page[T], int, error), count func() (int, error)) ([]T, int, error) {
	if lp.count == 0 {
		total, err := count()
		return nil, total, err
	}
	p, total, err := list(lp.startIndex-1, lp.count)
	if err != nil {
		return nil, 0, err
	}
	return p.Items, total, nil
}

func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request, req *request) {
	lp, err := h.queryParams(r)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	h.serveGroups(w, r, req, lp)
}

func (h *Handler) searchGroups(w http.ResponseWriter, r *http.Request, req *request) {
	lp, err := h.searchParams(req.body)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	h.serveGroups(w, r, req, lp)
}

// serveGroups answers a list or search of Groups by position, as
// serveUsers does (one list and one count a page, on any server),
// streaming each group's members unless they are excluded.
func (h *Handler) serveGroups(w http.ResponseWriter, r *http.Request, req *request, lp listParams) {
	ctx := r.Context()
	where, err := groupFilter(lp.filter)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	items, total, err := page(lp,
		func(offset, size int) (*sdk.Page[*sdk.Group], int, error) {
			return h.client.SearchGroups(ctx, req.tenantID, sdk.GroupSearch{
				Where: where, ListOptions: sdk.ListOptions{PageSize: size}, Offset: offset, Total: true,
			})
		},
		func() (int, error) { return h.client.CountGroupsMatching(ctx, req.tenantID, where) })
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	h.stream(w, r, func(bw *bufio.Writer) error {
		fmt.Fprintf(bw, `{"schemas":["%s"],"totalResults":%d,"startIndex":%d,"itemsPerPage":%d,"Resources":[`,
			listURN, total, lp.startIndex, len(items))
		for i, g := range items {
			if i > 0 {
				bw.WriteByte(',')
			}
			if err := h.writeGroup(ctx, bw, req, g, lp.proj); err != nil {
				return err
			}
		}
		_, err := bw.WriteString("]}")
		return err
	})
}
