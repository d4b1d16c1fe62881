using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Tritter.Data.Curation;

/// <summary>
/// Finds a file's licence: an <c>SPDX-License-Identifier</c> in its first lines, else the nearest LICENSE / LICENCE /
/// COPYING file in its directory or a parent up to the input root, identified by its characteristic wording.
/// Directory look-ups are cached, so each licence file is read once.
/// </summary>
public sealed partial class LicenseDetector(string root)
{
    private static readonly string[] LicenseFileNames =
        ["LICENSE", "LICENSE.txt", "LICENSE.md", "LICENSE.rst", "LICENCE", "LICENCE.txt", "LICENCE.md", "COPYING", "COPYING.txt", "COPYING.md"];

    private static readonly (string Spdx, string[] AllOf)[] Wordings =
    [
        ("PSF-2.0", ["PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2"]),
        ("Apache-2.0", ["Apache License", "Version 2.0"]),
        ("LGPL-3.0", ["GNU LESSER GENERAL PUBLIC LICENSE", "Version 3"]),
        ("LGPL-2.1", ["GNU LESSER GENERAL PUBLIC LICENSE"]),
        ("AGPL-3.0", ["GNU AFFERO GENERAL PUBLIC LICENSE"]),
        ("GPL-3.0", ["GNU GENERAL PUBLIC LICENSE", "Version 3"]),
        ("GPL-2.0", ["GNU GENERAL PUBLIC LICENSE"]),
        ("MPL-2.0", ["Mozilla Public License"]),
        ("Unlicense", ["This is free and unencumbered software released into the public domain"]),
        ("BSL-1.0", ["Boost Software License"]),
        ("MIT", ["Permission is hereby granted, free of charge"]),
        ("BSD-3-Clause", ["Redistribution and use in source and binary forms", "Neither the name"]),
        ("BSD-2-Clause", ["Redistribution and use in source and binary forms"]),
        ("ISC", ["Permission to use, copy, modify, and/or distribute this software for any purpose"]),
        ("Zlib", ["This software is provided 'as-is', without any express or implied"]),
    ];

    private readonly string _root = Path.GetFullPath(root);
    private readonly ConcurrentDictionary<string, string?> _byDirectory = new(StringComparer.Ordinal);

    /// <summary>The licence's SPDX id ("unknown" for a licence file of unrecognised wording), or <c>null</c> if there is none.</summary>
    public string? Detect(string fullPath, string text)
    {
        var head = text.AsSpan(0, Math.Min(text.Length, 4096));
        var spdx = SpdxHeader().Match(head.ToString());
        if (spdx.Success)
            return spdx.Groups[1].Value;
        return ForDirectory(Path.GetDirectoryName(Path.GetFullPath(fullPath))!);
    }

    /// <summary>The SPDX id of a licence text, "unknown" if its wording is not recognised.</summary>
    public static string Identify(string licenseText)
    {
        foreach (var (spdx, allOf) in Wordings)
        {
            if (allOf.All(phrase => licenseText.Contains(phrase, StringComparison.OrdinalIgnoreCase)))
                return spdx;
        }
        return "unknown";
    }

    private string? ForDirectory(string directory) => _byDirectory.GetOrAdd(directory, d =>
    {
        foreach (var name in LicenseFileNames)
        {
            var candidate = Path.Combine(d, name);
            if (File.Exists(candidate))
                return Identify(File.ReadAllText(candidate));
        }
        var parent = Path.GetDirectoryName(d);
        return d.Length <= _root.Length || parent is null ? null : ForDirectory(parent);
    });

    [GeneratedRegex(@"SPDX-License-Identifier:\s*([A-Za-z0-9.\-+]+)", RegexOptions.CultureInvariant)]
    private static partial Regex SpdxHeader();
}
