import HTTPTypes
import Hummingbird
import NIOCore
import ParleyDomain
import ParleyRuntime

/// Weblinks: `GET /w/{code}` (the code is the channel's id) answers a small "Engage Now" page
/// that opens a visitor session with the link's UTM parameters and chats through the visitor
/// API; `GET /w/{code}/qr.svg` a QR code of the link (with its query); the page's script is
/// `GET /w/{code}/engage.js`. Served by every node, no build step, a strict CSP.
extension Gateway {
    func addWeblinkRoutes(to router: Router<BasicRequestContext>) {
        router.get("/w/:code") { _, context -> Response in
            let channel = try await weblinkChannel(context)
            let name = Self.escapeHTML(channel.profile?.name ?? "")
            let page = """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                <title>\(name)</title></head>
                <body><main id="weblink" data-channel="\(Self.escapeHTML(channel.id.rawValue))">
                <h1>\(name)</h1>
                <p><button id="engage" type="button">Engage Now</button></p>
                <section id="chat" hidden><ol id="messages"></ol>
                <form id="send"><input id="text" name="text" maxlength="10000" autocomplete="off" required> <button type="submit">Send</button></form>
                <p id="status"></p></section>
                </main><script type="module" src="/w/\(Self.escapeHTML(channel.id.rawValue))/engage.js"></script></body></html>

                """
            return Self.page(page, contentType: "text/html; charset=utf-8")
        }

        router.get("/w/:code/engage.js") { _, context -> Response in
            _ = try await weblinkChannel(context)
            return Self.page(Self.engageScript, contentType: "text/javascript; charset=utf-8")
        }

        router.get("/w/:code/qr.svg") { request, context -> Response in
            let channel = try await weblinkChannel(context)
            let host = request.head.authority ?? "127.0.0.1"
            let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "https" : "http"
            var link = "\(scheme)://\(host)/w/\(channel.id.rawValue)"
            if let query = request.uri.query, !query.isEmpty { link += "?" + query }
            guard let code = QRCode(Array(link.utf8)) else {
                throw GatewayError.invalidArgument("the link is longer than a QR code here holds (\(QRCode.maxBytes) bytes)")
            }
            return Self.page(code.svg(), contentType: "image/svg+xml")
        }
    }

    private func weblinkChannel(_ context: BasicRequestContext) async throws -> ChannelState {
        guard let raw = context.parameters.get("code"), let id = ChannelID(rawValue: raw) else {
            throw GatewayError(.notFound, code: DomainError.Code.channelNotFound.rawValue, "no weblink here")
        }
        let channel = try await runtime.channel(id)
        guard channel.exists else { throw GatewayError(.notFound, code: DomainError.Code.channelNotFound.rawValue, "no weblink \(id)") }
        return channel
    }

    /// A page or script with the headers a production server sets for it.
    static func page(_ body: String, contentType: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: contentType, .cacheControl: "no-cache",
                .contentSecurityPolicy: "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The weblink page's script: opens the visitor session (with the page's utm_* parameters
    /// and the device), then writes and reads the conversation through the visitor API, polling
    /// every two seconds; the token lives in the tab's session storage, so a reload resumes.
    static let engageScript = #"""
        const main = document.getElementById("weblink");
        const channel = main.dataset.channel;
        const key = "parley-visitor-" + channel;
        const list = document.getElementById("messages");
        const status = document.getElementById("status");
        let token = sessionStorage.getItem(key);
        let shown = 0;

        async function api(path, options = {}) {
          const headers = { "Content-Type": "application/json" };
          if (token) headers.Authorization = "Bearer " + token;
          const response = await fetch(path, { ...options, headers });
          const body = await response.json().catch(() => ({}));
          if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
          return body;
        }

        async function engage() {
          if (!token) {
            const utm = {};
            for (const [name, value] of new URLSearchParams(location.search)) if (name.startsWith("utm_")) utm[name] = value.slice(0, 1000);
            const device = { platform: navigator.platform || "", user_agent: navigator.userAgent.slice(0, 1000),
              screen_size: screen.width + "x" + screen.height, local_time: new Date().toString().slice(0, 100) };
            const session = await api("/v1/visitor/sessions", { method: "POST", body: JSON.stringify({ channel_id: channel, utm, device }) });
            token = session.token;
            sessionStorage.setItem(key, token);
          }
          document.getElementById("engage").hidden = true;
          document.getElementById("chat").hidden = false;
          poll();
        }

        async function poll() {
          try {
            const page = await api("/v1/visitor/messages?after=" + shown + "&limit=200");
            for (const message of page.messages) {
              const item = document.createElement("li");
              item.textContent = (message.author_name ? message.author_name + ": " : "") + (message.recalled ? "(recalled)" : message.text);
              list.append(item);
              shown = message.seq;
            }
            const me = await api("/v1/visitor");
            status.textContent = me.enquiry ? (me.enquiry.queue_position ? "You are number " + me.enquiry.queue_position + " in the queue" : "") : "";
          } catch (error) {
            status.textContent = "Reconnecting…";
          }
          setTimeout(poll, 2000);
        }

        document.getElementById("engage").addEventListener("click", () => engage().catch((error) => { status.textContent = error.message; }));
        document.getElementById("send").addEventListener("submit", async (event) => {
          event.preventDefault();
          const input = document.getElementById("text");
          const text = input.value;
          const id = crypto.randomUUID();
          try {
            await api("/v1/visitor/messages", { method: "POST", body: JSON.stringify({ text, idempotency_key: id }) });
            input.value = "";
          } catch (error) {
            status.textContent = error.message;
          }
        });
        if (token) engage();

        """#
}
