package ui

// RouteEntry is one line of the route table as tests see it.
type RouteEntry struct {
	Method, Path, Access string
	StoreRule            string // storeRule(Path)
}

// RouteTable is routes() as data: the whole Fiber surface with the
// access each route needs.
func RouteTable() []RouteEntry {
	var list []RouteEntry
	for _, r := range (&Server{}).routes() {
		list = append(list, RouteEntry{r.method, r.path, string(r.access), storeRule(r.path)})
	}
	return list
}
