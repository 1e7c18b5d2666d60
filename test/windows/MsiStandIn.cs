// Stand-in for the WindowsInstaller.Installer COM object (msi.dll's automation interface), loaded
// by WindowsHost.psm1 with Add-Type. Only the members the package scripts call, each as Windows
// answers it (learn.microsoft.com/windows/win32/msi/automation-interface-reference):
// - Installer.OpenDatabase(path, mode): a Database; a file that is no package throws (COM error).
// - Database.OpenView(sql): only `SELECT Value FROM Property WHERE Property = '<name>'` (the
//   scripts' one query, column names optionally in backquotes); any other SQL throws, as a
//   syntax the stand-in does not know must not be answered by guesswork.
// - View.Execute(), View.Fetch() (a Record, or null after the last one), View.Close().
// - Record.StringData(field): 1-based.
// - Installer.RelatedProducts(upgradeCode): a StringList of the ProductCodes installed with that
//   UpgradeCode, read live from the host's product table. The StringList is a For Each collection
//   (Microsoft: "an application iterates the StringList using a For Each construct"), so
//   PowerShell enumerates it when a function returns it: this one is IEnumerable for that reason.
// Members are invoked by reflection (Type.InvokeMember), which is case-sensitive where IDispatch is
// not: stricter than Windows, never kinder.
using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WindowsHostStandIn
{
    /// <summary>A fake MSI is a text file whose first line is "FAKE-MSI " and its Property table as JSON.</summary>
    public static class FakeMsi
    {
        public const string Magic = "FAKE-MSI ";

        public static Dictionary<string, string> ReadProperties(string path)
        {
            if (!File.Exists(path))
            {
                throw new COMException("OpenDatabase,DatabasePath,OpenMode: cannot open " + path, unchecked((int)0x80004005));
            }
            string first;
            using (var reader = new StreamReader(path))
            {
                first = reader.ReadLine() ?? "";
            }
            if (!first.StartsWith(Magic))
            {
                throw new COMException("OpenDatabase,DatabasePath,OpenMode: " + path + " is not a Windows Installer package", unchecked((int)0x80004005));
            }
            var props = JsonSerializer.Deserialize<Dictionary<string, string>>(first.Substring(Magic.Length));
            return props ?? new Dictionary<string, string>();
        }
    }

    public class Installer
    {
        private readonly string hostFile;

        public Installer(string hostFile) { this.hostFile = hostFile; }

        public Database OpenDatabase(string path, object openMode) { return new Database(FakeMsi.ReadProperties(path)); }

        [IndexerName("RelatedProducts")]
        public StringList this[string upgradeCode]
        {
            get
            {
                var codes = new List<string>();
                using (var doc = JsonDocument.Parse(File.ReadAllText(hostFile)))
                {
                    foreach (var product in doc.RootElement.GetProperty("products").EnumerateArray())
                    {
                        if (string.Equals(product.GetProperty("UpgradeCode").GetString(), upgradeCode, StringComparison.OrdinalIgnoreCase))
                        {
                            codes.Add(product.GetProperty("ProductCode").GetString());
                        }
                    }
                }
                return new StringList(codes);
            }
        }
    }

    public class Database
    {
        private static readonly Regex PropertyQuery = new Regex(@"^SELECT `?Value`? FROM `?Property`? WHERE `?Property`? = '([A-Za-z_][A-Za-z0-9_.]*)'$");
        private readonly Dictionary<string, string> properties;

        public Database(Dictionary<string, string> properties) { this.properties = properties; }

        public View OpenView(string sql)
        {
            var m = PropertyQuery.Match(sql);
            if (!m.Success)
            {
                throw new COMException("OpenView,Sql: the stand-in knows only SELECT Value FROM Property WHERE Property = '<name>', not: " + sql, unchecked((int)0x80004005));
            }
            string value;
            var rows = new List<Record>();
            if (properties.TryGetValue(m.Groups[1].Value, out value)) { rows.Add(new Record(value)); }
            return new View(rows);
        }
    }

    public class View
    {
        private readonly List<Record> rows;
        private int next = -1;

        public View(List<Record> rows) { this.rows = rows; }

        public void Execute() { next = 0; }

        public Record Fetch()
        {
            if (next < 0) { throw new COMException("Fetch: the view was not executed", unchecked((int)0x80004005)); }
            return next < rows.Count ? rows[next++] : null;
        }

        public void Close() { next = -1; }
    }

    public class Record
    {
        private readonly string value;

        public Record(string value) { this.value = value; }

        [IndexerName("StringData")]
        public string this[int field]
        {
            get
            {
                if (field != 1) { throw new COMException("StringData: the record has one field, not " + field, unchecked((int)0x80004005)); }
                return value;
            }
        }
    }

    public class StringList : IEnumerable
    {
        private readonly List<string> items;

        public StringList(List<string> items) { this.items = items; }

        public int Count { get { return items.Count; } }

        public string this[int index] { get { return items[index]; } }

        public IEnumerator GetEnumerator() { return items.GetEnumerator(); }
    }
}
