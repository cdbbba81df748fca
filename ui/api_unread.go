package ui

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"onedesk/store"
)

// unreadCounts answers, for each inbox view of the sidebar, how many of
// its tickets have customer messages the agent has not opened yet, up to
// store.UnreadCap ("99+" past it). The keys are the app's view keys. The
// app asks after the inbox's first page is on screen, and again (at most
// every few seconds) when the agent socket says tickets changed.
func (s *Server) unreadCounts(c *fiber.Ctx, p *principal) error {
	ctx := c.UserContext()
	teams, err := s.db.Teams(ctx)
	if err != nil {
		return err
	}
	stores, err := s.db.Stores(ctx)
	if err != nil {
		return err
	}
	active := []string{"new", "open", "pending"}
	views := []store.UnreadView{
		{Key: "unassigned", Statuses: []string{"new", "open"}, Unassigned: true},
		{Key: "mine", Statuses: active, AssigneeID: p.agent.ID},
		{Key: "open", Statuses: []string{"new", "open"}},
		{Key: "pending", Statuses: []string{"pending"}},
	}
	for _, t := range teams {
		views = append(views, store.UnreadView{Key: fmt.Sprintf("team:%d", t.ID), Statuses: active, TeamID: t.ID})
	}
	for _, ch := range store.Channels {
		views = append(views, store.UnreadView{Key: "channel:" + ch, Statuses: active, Channel: ch})
	}
	for _, st := range stores {
		if !p.seesStore(&st.ID) {
			continue
		}
		views = append(views, store.UnreadView{Key: fmt.Sprintf("store:%d", st.ID), Statuses: active, StoreID: st.ID})
	}
	for i := range views {
		views[i].Stores = p.stores()
	}
	counts, err := s.db.UnreadCounts(ctx, p.agent.ID, views)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"counts": counts, "cap": store.UnreadCap})
}
