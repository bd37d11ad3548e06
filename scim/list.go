package scim

import (
	"bufio"
	"bytes"
	"container/list"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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
// SDK's AST, exact totalResults, stable id order, and startIndex mapped to
// a cursor (see seek).
func (h *Handler) serveUsers(w http.ResponseWriter, r *http.Request, req *request, lp listParams) {
	ctx := r.Context()
	s := h.schemaFor(ctx, req)
	where, err := userFilter(s, lp.filter)
	if err != nil {
		writeError(w, h.fail(r, err))
		return
	}
	key := func() string { return req.tenantID + "\x00U\x00" + condKey(where) }
	fetch := func(cursor string, size int, total bool) (*sdk.Page[*sdk.Member], int, error) {
		return h.client.SearchMembers(ctx, req.tenantID, sdk.MemberSearch{
			Where: where, ListOptions: sdk.ListOptions{PageSize: size, Cursor: cursor}, Total: total,
		})
	}
	items, total, err := window(h, key, lp, fetch)
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

// window returns the page of a list that startIndex and count select and
// the list's exact total, remembering the cursor of the page after it, so
// that an identity provider walking the list pays one range query a page.
func window[T any](h *Handler, key func() string, lp listParams, fetch func(cursor string, size int, total bool) (*sdk.Page[T], int, error)) ([]T, int, error) {
	cursor, end, err := h.seek(key, lp.startIndex, func(cursor string, size int) (string, int, error) {
		p, _, err := fetch(cursor, size, false)
		if err != nil {
			return "", 0, err
		}
		return p.NextCursor, len(p.Items), nil
	})
	if err != nil {
		return nil, 0, err
	}
	if end {
		cursor = "" // the page is empty; the fetch below is for the total
	}
	page, total, err := fetch(cursor, max(lp.count, 1), true)
	if err != nil {
		return nil, 0, err
	}
	items := page.Items
	if end || lp.count == 0 {
		return nil, total, nil
	}
	if page.NextCursor != "" {
		h.cursors.put(key()+"\x00"+strconv.Itoa(lp.startIndex+len(items)), page.NextCursor)
	}
	return items, total, nil
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

// serveGroups answers a list or search of Groups, streaming each group's
// members unless they are excluded.
func (h *Handler) serveGroups(w http.ResponseWriter, r *http.Request, req *request, lp listParams) {
	ctx := r.Context()
	where, err := groupFilter(lp.filter)
	if err != nil {
		writeError(w, errorFor(err))
		return
	}
	key := func() string { return req.tenantID + "\x00G\x00" + condKey(where) }
	fetch := func(cursor string, size int, total bool) (*sdk.Page[*sdk.Group], int, error) {
		return h.client.SearchGroups(ctx, req.tenantID, sdk.GroupSearch{
			Where: where, ListOptions: sdk.ListOptions{PageSize: size, Cursor: cursor}, Total: total,
		})
	}
	items, total, err := window(h, key, lp, fetch)
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

// seek returns the SDK cursor of the item before startIndex in the list
// identified by key, and whether the list ends before it.
//
// SCIM pages by position (startIndex, RFC 7644 §3.4.2.4) while Roster's
// stores page by range on the id (a cursor), so that every page costs the
// same however deep it is and writes between pages neither repeat nor skip
// items. The two meet in a cache: serving the page at startIndex s with n
// items remembers the cursor of position s+n, which is exactly where a
// client walking the list — as Okta and Entra ID do — asks next. A request
// at a position the cache does not know (a jump, another server, an entry
// evicted after 15 minutes) walks from the start in pages of 1000 once:
// its cost grows with the position, and the position is cached for the next
// request.
func (h *Handler) seek(key func() string, startIndex int, fetch func(cursor string, size int) (next string, n int, err error)) (string, bool, error) {
	if startIndex <= 1 {
		return "", false, nil
	}
	ck := key() + "\x00" + strconv.Itoa(startIndex)
	if c, ok := h.cursors.get(ck); ok {
		return c, c == endOfList, nil
	}
	cursor, pos := "", 1
	for pos < startIndex {
		size := min(startIndex-pos, sdk.MaxPageSize)
		next, n, err := fetch(cursor, size)
		if err != nil {
			return "", false, err
		}
		pos += n
		if n < size || next == "" {
			return endOfList, true, nil
		}
		cursor = next
	}
	h.cursors.put(ck, cursor)
	return cursor, false, nil
}

const endOfList = "\x00end"

// cursorCache is a bounded LRU of list positions → SDK cursors.
type cursorCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	items map[string]*list.Element
	order *list.List
}

type cursorEntry struct {
	key, cursor string
	expires     time.Time
}

func newCursorCache(n int, ttl time.Duration, now func() time.Time) *cursorCache {
	return &cursorCache{max: n, ttl: ttl, now: now, items: map[string]*list.Element{}, order: list.New()}
}

func (c *cursorCache) get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return "", false
	}
	e := el.Value.(*cursorEntry)
	if c.now().After(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return "", false
	}
	c.order.MoveToFront(el)
	return e.cursor, true
}

func (c *cursorCache) put(key, cursor string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cursorEntry)
		e.cursor, e.expires = cursor, c.now().Add(c.ttl)
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&cursorEntry{key: key, cursor: cursor, expires: c.now().Add(c.ttl)})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*cursorEntry).key)
	}
}
