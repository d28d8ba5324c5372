import Foundation
import ParleyDomain
import Testing

@testable import ParleyLinkPreview

@Suite("Link preview parsing")
struct PageParsingTests {
    let page = URL(string: "https://example.com/articles/1")!

    @Test func openGraphWinsOverTitleAndRelativeImagesResolve() {
        let html = """
            <!doctype html><html><head>
            <!-- <meta property="og:title" content="commented out"> -->
            <title>  Plain
              title </title>
            <meta name=description content="The plain description">
            <meta property="og:title" content="Caf&eacute; &amp; &quot;Bar&quot; &#8212; &#x1F600;">
            <META PROPERTY='og:image' CONTENT='/img/cover.png'>
            <meta property="og:site_name" content="Example">
            </head><body><meta property="og:description" content="in the body"></body></html>
            """
        let metadata = PageMetadata.parse(html, pageURL: page)
        #expect(metadata.title == "Caf&eacute; & \"Bar\" — 😀")
        #expect(metadata.description == "The plain description")
        #expect(metadata.image == "https://example.com/img/cover.png")
        #expect(metadata.siteName == "Example")
    }

    @Test func titleIsTheFallbackAndLongTextIsCut() {
        let long = String(repeating: "word ", count: 400)
        let metadata = PageMetadata.parse("<title>A &lt;b&gt; title</title><meta name=\"description\" content=\"\(long)\"><meta property=og:image content=javascript:alert(1)>", pageURL: page)
        #expect(metadata.title == "A <b> title")
        #expect(metadata.description?.unicodeScalars.count == PageMetadata.maxDescriptionScalars)
        #expect(metadata.description?.hasSuffix("…") == true)
        #expect(metadata.image == nil, "only http(s) images")
        #expect(PageMetadata.parse("<p>no metadata</p>", pageURL: page) == PageMetadata())
    }

    @Test func attributesTakeAnyQuotingAndUnterminatedMarkupEnds() {
        #expect(PageMetadata.attributes(of: #"meta property="og:title" content='It"s' data-x=1 checked"#) == [
            "property": "og:title", "content": "It\"s", "data-x": "1", "checked": "",
        ])
        #expect(PageMetadata.parse("<title>cut", pageURL: page).title == nil)
        #expect(PageMetadata.parse("<meta content=\"x\"", pageURL: page) == PageMetadata())
    }

    @Test func linksAreFoundInText() {
        #expect(LinkPreview.links(in: "see https://a.example/x?y=1, and (http://b.example/p) or HTTPS://C.example/q.") == [
            "https://a.example/x?y=1", "http://b.example/p", "HTTPS://C.example/q",
        ])
        #expect(LinkPreview.links(in: "wiki https://en.wikipedia.org/wiki/Swift_(programming_language)!") == ["https://en.wikipedia.org/wiki/Swift_(programming_language)"])
        #expect(LinkPreview.links(in: "dupes https://a.example https://a.example <https://b.example> ftp://c.example http://") == ["https://a.example", "https://b.example"])
        #expect(LinkPreview.links(in: (1...5).map { "https://\($0).example" }.joined(separator: " ")).count == LinkPreview.maxPerMessage)
    }

    @Test func onlyPublicAddressesPass() {
        func v4(_ text: String) -> [UInt8] { HostResolver.literal(text)!.bytes }
        for address in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::", "ff02::1"] {
            #expect(!AddressPolicy.isPublic(v4(address)), "\(address) is internal")
        }
        for address in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            #expect(AddressPolicy.isPublic(v4(address)), "\(address) is public")
        }
    }
}
