-- wrk script: GET /api/me, the smallest authenticated answer: what the
-- HTTP path itself costs (see README, Performance).
local token = os.getenv("TOKEN")
request = function()
  return wrk.format("GET", "/api/me", { ["Authorization"] = "Bearer " .. token })
end
