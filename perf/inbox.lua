-- wrk script: the inbox's first page, open tickets, newest first, with
-- and without the assignee and store filters (see README, Performance).
local token = os.getenv("TOKEN")
local paths = {
  "/api/tickets?status=open&sort=newest",
  "/api/tickets?status=open&sort=newest&assignee=2&store=1",
  "/api/tickets?status=new,open,pending",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], { ["Authorization"] = "Bearer " .. token })
end
