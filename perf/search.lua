-- wrk script: full-text search (see README, Performance). WORDS, comma
-- separated, picks what is searched (default: common and rare words):
--   WORDS=parcel,refund,order,where        words in most messages
--   WORDS=kalomi,zentor,velqui,barnex      rare words
--   WORDS=re,ref,refu,refun,tra,trac,track typing prefixes
--   WORDS=123456,customer42@mail.test      an order number, an email
-- FILTER is added to each query: FILTER='&status=open&assignee=2'.
local token = os.getenv("TOKEN")
local filter = os.getenv("FILTER") or ""
local words = {}
for w in string.gmatch(os.getenv("WORDS") or "parcel,refund,order,delivery late,kalomi,zentor,velqui,tracking", "[^,]+") do
  words[#words + 1] = string.gsub(w, "[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end)
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/tickets?q=" .. words[(i % #words) + 1] .. filter, { ["Authorization"] = "Bearer " .. token })
end
