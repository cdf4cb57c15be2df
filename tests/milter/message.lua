-- One message through mailward-milter; expectations come from -D variables:
--   SOCK      libmilter socket of the filter
--   ADDR      client address sent in CONNECT
--   AUTH      if set, {auth_authen} sent with MAIL
--   DIR       expected X-Mailward-Probe value (inbound|outbound)
--   ARID      our authserv-id
--   FORGED    if set, send AR headers claiming ARID (and a foreign one)
conn = mt.connect(SOCK, 40, 0.25)
if conn == nil then error("cannot connect to " .. SOCK) end

mt.macro(conn, SMFIC_CONNECT, "j", "mx.test.example")
if mt.conninfo(conn, "client.test.example", ADDR) ~= nil then error("conninfo") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("connect not continued") end
if mt.helo(conn, "client.test.example") ~= nil then error("helo") end

if AUTH ~= nil then
  mt.macro(conn, SMFIC_MAIL, "i", "4ABCDEF", "{auth_authen}", AUTH)
else
  mt.macro(conn, SMFIC_MAIL, "i", "4ABCDEF")
end
if mt.mailfrom(conn, "<alice@example.org>") ~= nil then error("mail") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("mail not continued") end
if mt.rcptto(conn, "<bob@example.net>") ~= nil then error("rcpt") end
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("rcpt not continued") end

mt.header(conn, "From", "alice@example.org")
if FORGED ~= nil then
  mt.header(conn, "Authentication-Results", ARID .. "; spf=pass smtp.mailfrom=evil@example.org")
  mt.header(conn, "Authentication-Results", "other.example; dkim=fail header.d=example.org")
  mt.header(conn, "Authentication-Results",
            " (forged (nested) comment)\n\t" .. string.upper(ARID) .. " 1; dmarc=pass")
end
mt.header(conn, "Subject", "test")
if mt.eoh(conn) ~= nil then error("eoh") end
if mt.bodystring(conn, "hello\r\nworld\r\n") ~= nil then error("body") end
if mt.eom(conn) ~= nil then error("eom") end
if mt.getreply(conn) ~= SMFIR_ACCEPT and mt.getreply(conn) ~= SMFIR_CONTINUE then
  error("message not accepted")
end

local want = ARID .. ";\n\tx-probe=pass smtp.mailfrom=alice@example.org"
if not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results", want, 0) then
  error("no Authentication-Results \"" .. want .. "\" at index 0")
end
local ar = mt.getheader(conn, "Authentication-Results", 0)
if ar ~= want then error("first AR header is " .. tostring(ar)) end
if mt.getheader(conn, "Authentication-Results", 1) ~= nil then
  error("more than one Authentication-Results header added")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Mailward-Probe", DIR) then
  error("X-Mailward-Probe is not " .. DIR)
end
if FORGED ~= nil then
  if not mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results") then
    error("forged Authentication-Results not deleted")
  end
elseif mt.eom_check(conn, MT_HDRDELETE) then
  error("a header was deleted")
end
mt.disconnect(conn)
