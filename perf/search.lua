-- wrk script: full-text search with common and rare words (see README, Performance).
local token = os.getenv("TOKEN")
local words = { "parcel", "refund", "order", "delivery%20late", "kalomi", "zentor", "velqui", "tracking" }
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/tickets?q=" .. words[(i % #words) + 1], { ["Authorization"] = "Bearer " .. token })
end
