package helpcentre

import (
	"context"
	"sync"

	"onedesk/desk"
	"onedesk/store"
)

// published is what a store's pages read that is the same for every
// reader until the store's help centre changes: its languages, its
// categories, each language's home page lists. It is kept for the
// store's help version (store.HelpVersion, one read of a key per
// request, so a change made on another node shows at once too).
type published struct {
	version int64
	langs   []string // languages with published articles
	cats    []*store.HelpCategory

	mu    sync.Mutex
	homes map[string]*homeLists // by language
}

// homeLists are a home page's articles and each category's count, and
// the page made of them for the store's frame (name, logo, colour).
type homeLists struct {
	hits   []store.HelpHit
	counts map[int64]int

	mu    sync.Mutex
	frame string
	made  []byte
}

// page is the home page made for frame, or nil.
func (h *homeLists) page(frame string) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.made != nil && h.frame == frame {
		return h.made
	}
	return nil
}

// keep keeps the home page made for frame.
func (h *homeLists) keep(frame string, page []byte) {
	h.mu.Lock()
	h.frame, h.made = frame, page
	h.mu.Unlock()
}

// publishedCache holds a published per store.
type publishedCache struct {
	mu sync.Mutex
	m  map[int64]*published
}

// maxCachedStores bounds the cache; past it, it starts again.
const maxCachedStores = 1000

// published is st's published help centre as it is now.
func (c *Centre) published(ctx context.Context, st *store.Store) (*published, error) {
	// The version is read first: what follows is at least that new.
	v, err := c.db.HelpVersion(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	c.cache.mu.Lock()
	p := c.cache.m[st.ID]
	c.cache.mu.Unlock()
	if p != nil && p.version == v {
		return p, nil
	}
	langs, err := c.db.HelpLanguages(ctx, st.ID, desk.Languages)
	if err != nil {
		return nil, err
	}
	cats, err := c.db.HelpCategories(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	p = &published{version: v, langs: langs, cats: cats, homes: map[string]*homeLists{}}
	c.cache.mu.Lock()
	if c.cache.m == nil || len(c.cache.m) >= maxCachedStores {
		c.cache.m = map[int64]*published{}
	}
	if old := c.cache.m[st.ID]; old == nil || old.version <= v {
		c.cache.m[st.ID] = p
	}
	c.cache.mu.Unlock()
	return p, nil
}

// home is the home page's lists in lang, read once per version.
func (p *published) home(ctx context.Context, db *store.DB, storeID int64, lang string) (*homeLists, error) {
	p.mu.Lock()
	h := p.homes[lang]
	p.mu.Unlock()
	if h != nil {
		return h, nil
	}
	ids := make([]int64, len(p.cats))
	for i, cat := range p.cats {
		ids[i] = cat.ID
	}
	hits, counts, err := db.PublishedHelpHome(ctx, storeID, lang, ids, homePerCat)
	if err != nil {
		return nil, err
	}
	h = &homeLists{hits: hits, counts: counts}
	p.mu.Lock()
	p.homes[lang] = h
	p.mu.Unlock()
	return h, nil
}

// category is the store's category with a slug, or nil.
func (p *published) category(slug string) *store.HelpCategory {
	for _, cat := range p.cats {
		if cat.Slug == slug {
			return cat
		}
	}
	return nil
}

// categoryByID is the store's category with an id, or nil.
func (p *published) categoryByID(id int64) *store.HelpCategory {
	for _, cat := range p.cats {
		if cat.ID == id {
			return cat
		}
	}
	return nil
}
