-- wrk script: GET /api/tickets/{id} for random ids of a seeded database.
-- TOKEN and MAX_ID come from the environment (see README, Performance).
local token = os.getenv("TOKEN")
local max_id = tonumber(os.getenv("MAX_ID") or "1000000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/tickets/" .. math.random(1, max_id), { ["Authorization"] = "Bearer " .. token })
end
