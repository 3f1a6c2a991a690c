vcl 4.1;
# Rendered by cachectl (src/edge/varnish/render-vcl.ts); do not edit, cachectl replaces it on every domain change.
import std;
import purge;       # vmod purge (varnish-modules): hard/soft purge with a count, covers every Vary variant
import xkey;        # vmod xkey (varnish-modules): surrogate keys, used for directory soft purge
import directors;

# One backend per origin source (address:httpPort).
backend default none;

# Only the control plane (loopback) may purge, ban or force a prefetch.
acl cachectl {
    "127.0.0.1";
    "::1";
}

sub vcl_init {

}

sub vcl_recv {
    # The cache key includes Host: normalise it (case, port) so purges match what clients stored.
    set req.http.host = std.tolower(regsub(req.http.host, ":[0-9]+$", ""));
    if (req.method ~ "^(PURGE|SOFTPURGE|BAN|XKEYSOFT)$" || req.http.X-Prefetch) {
        if (client.ip !~ cachectl) {
            return (synth(405, "Not allowed"));
        }
    }
    if (!req.http.X-Prefetch) {
        unset req.http.X-Prefetch-Timeout;
    } else if (req.restarts == 0) {
        # When this prefetch began: a copy stored before then is replaced; one stored since (a fill this
        # request waited for, e.g. an earlier try of the same prefetch) is its result.
        set req.http.X-Prefetch-Since = std.time2real(now, 0.0);
    }
    if (req.method == "BAN") {
        # Directory refresh: lurker-friendly (obj.* only, never req.*), so the ban lurker can free
        # objects in the background. The driver sends an escaped regex; whitespace or quotes would
        # break out of the ban expression, so refuse them.
        if (!req.http.X-Ban-Url-Regex || req.http.X-Ban-Url-Regex ~ "[\s\x22]" || req.http.host ~ "[\s\x22]") {
            return (synth(400, "Bad X-Ban-Url-Regex"));
        }
        if (std.ban("obj.http.x-host == " + req.http.host + " && obj.http.x-url ~ ^" + req.http.X-Ban-Url-Regex)) {
            return (synth(200, "Ban added"));
        }
        return (synth(400, std.ban_error()));
    }
    if (req.method == "XKEYSOFT") {
        # Directory soft purge: every object tagged p:<host><dir> becomes stale (ttl 0), body kept.
        set req.http.X-Purged = xkey.softpurge("p:" + req.http.host + req.http.X-Dir);
        return (synth(200, "Soft-purged"));
    }
    return (synth(404, "Unknown host"));
    if (req.method == "PURGE" || req.method == "SOFTPURGE") {
        return (hash);    # acted on in vcl_hit / vcl_miss, where vmod purge sees every variant
    }
    # A prefetch looks up like any request (no hash_always_miss), so that it waits for a fill of the
    # same object that runs (request coalescing) instead of fetching it a second time; vcl_hit drops an
    # older copy and restarts into a miss.
}

sub cachectl_purge {
    if (req.method == "PURGE") {
        set req.http.X-Purged = purge.hard();
        return (synth(200, "Purged"));
    }
    if (req.method == "SOFTPURGE") {
        # ttl 0, grace 0 (the next client waits for the revalidation), keep untouched (body for the 304).
        set req.http.X-Purged = purge.soft(0s, 0s, -1s);
        return (synth(200, "Soft-purged"));
    }
}

sub vcl_hit {
    call cachectl_purge;
    if (req.http.X-Prefetch && req.restarts == 0 && std.time2real(now - obj.age, 0.0) < std.real(req.http.X-Prefetch-Since, 0.0)) {
        set req.http.X-Prefetch-Dropped = purge.hard();
        return (restart);
    }
}

sub vcl_miss {
    call cachectl_purge;
    if (req.http.X-Prefetch) {
        # hash_always_miss alone leaves the old copies until they expire (measured: they pile up).
        set req.http.X-Prefetch-Dropped = purge.hard();
    }
}

sub vcl_backend_fetch {
    # A prefetch waits for the origin as long as the control plane does (its prefetch timeout, which
    # the driver sends): a slow or large object is not cut at the 60 s defaults.
    if (bereq.http.X-Prefetch-Timeout) {
        set bereq.first_byte_timeout = std.duration(bereq.http.X-Prefetch-Timeout + "ms", 60s);
        set bereq.between_bytes_timeout = std.duration(bereq.http.X-Prefetch-Timeout + "ms", 60s);
    }
    unset bereq.http.X-Prefetch-Timeout;
    unset bereq.http.X-Prefetch-Since;
}

sub vcl_backend_response {
    if (bereq.http.X-Prefetch) {
        # The prefetch is answered once the whole body is stored (not when the headers come): its
        # report says what the cache holds.
        set beresp.do_stream = false;
    }
    # Copies of host/url on the object, for lurker-friendly bans (removed again in vcl_deliver).
    set beresp.http.x-url = bereq.url;
    set beresp.http.x-host = bereq.http.host;
    # Keep expired objects a day so a soft purge revalidates with If-None-Match/If-Modified-Since.
    set beresp.keep = 1d;
    # No grace: after a (soft) refresh no client may be served the stale copy while it revalidates.
    set beresp.grace = 0s;
    # xkey tags: one per ancestor directory, "p:<host>/a/ p:<host>/a/b/ ..." (fixed depth, see XKEY_DEPTH).
    set beresp.http.xkey = "p:" + bereq.http.host + "/";
    if (bereq.url ~ "^(/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/).*$", "\1");
    }
    if (bereq.url ~ "^(/[^/?]+/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/[^/?]+/).*$", "\1");
    }
    if (bereq.url ~ "^(/[^/?]+/[^/?]+/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/[^/?]+/[^/?]+/).*$", "\1");
    }
    if (bereq.url ~ "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$", "\1");
    }
    if (bereq.url ~ "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$", "\1");
    }
    if (bereq.url ~ "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$", "\1");
    }
    if (bereq.url ~ "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$", "\1");
    }
    if (bereq.url ~ "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$") {
        set beresp.http.xkey = beresp.http.xkey + " p:" + bereq.http.host + regsub(bereq.url, "^(/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/[^/?]+/).*$", "\1");
    }
    set beresp.http.x-origin-status = beresp.status;
}

sub vcl_deliver {
    # Internal bookkeeping headers stay on the object, not on the wire.
    unset resp.http.x-url;
    unset resp.http.x-host;
    unset resp.http.xkey;
    unset resp.http.x-origin-status;
    if (req.http.X-Prefetch) {
        # Prefetch report: what the origin answered and whether Varnish stored it.
        set resp.http.X-Origin-Status = resp.status;
        if (obj.uncacheable) {
            set resp.http.X-Stored = "0";
        } else {
            set resp.http.X-Stored = "1";
        }
    }
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

sub vcl_synth {
    if (req.http.X-Purged) {
        set resp.http.X-Purged = req.http.X-Purged;
    }
}

sub vcl_backend_error {
    # Origin unreachable: report it to a prefetch as origin status 503.
    set beresp.http.x-origin-status = "503";
}
