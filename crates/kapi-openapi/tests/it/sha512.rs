use kapi_openapi::sha512_upper_hex;

#[test]
fn known_vectors() {
    let cases: [(&[u8], &str); 3] = [
        (b"", "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E"),
        (b"abc", "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F"),
        (
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "8E959B75DAE313DA8CF4F72814FC143F8F7779C6EB9F7FA17299AEADB6889018501D289E4900F7E4331B99DEC4B5433AC7D329EEB6DD26545E96E55B874BE909",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(sha512_upper_hex(input), expected, "{}", String::from_utf8_lossy(input));
    }
    // Lengths around the padding boundaries (prefixes computed with Python's hashlib).
    let boundaries = [
        (111usize, "FA9121C7B32B9E01"),
        (112, "C01D080EFD492776"),
        (127, "828613968B501DC0"),
        (128, "B73D1929AA615934"),
        (239, "52C853CB8D907F3D"),
        (240, "4C296D90C61052A6"),
    ];
    for (len, prefix) in boundaries {
        assert!(sha512_upper_hex(&vec![b'a'; len]).starts_with(prefix), "{len} bytes");
    }
}
