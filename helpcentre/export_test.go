package helpcentre

// ForgetPublished empties the pages' cache, as a change to a help centre
// does (the benchmark's first page after an edit).
func ForgetPublished(c *Centre) {
	c.cache.mu.Lock()
	c.cache.m = nil
	c.cache.mu.Unlock()
}
