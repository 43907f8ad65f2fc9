using SharpVision.Imaging;

namespace SharpVision.Tests.Data.Detection;

/// <summary>Small helpers shared by the detection data tests.</summary>
internal static class DetectionFixtures
{
    /// <summary>Writes a grey PNG of the given size at <paramref name="path"/>.</summary>
    public static string Png(string path, int width, int height)
    {
        var img = new RgbImage(width, height);
        Array.Fill(img.Pixels, (byte)128);
        ImageEncoder.SavePng(img, path);
        return path;
    }

    /// <summary>A minimal VOC annotation XML.</summary>
    public static string VocXml(string fileName, int width, int height, params (string Name, int Difficult, string X1, string Y1, string X2, string Y2)[] objects)
        => $"""
           <annotation>
             <folder>VOC2007</folder>
             <filename>{fileName}</filename>
             <size><width>{width}</width><height>{height}</height><depth>3</depth></size>
           {string.Concat(objects.Select(o => $"""
             <object>
               <name>{o.Name}</name>
               <difficult>{o.Difficult}</difficult>
               <bndbox><xmin>{o.X1}</xmin><ymin>{o.Y1}</ymin><xmax>{o.X2}</xmax><ymax>{o.Y2}</ymax></bndbox>
             </object>

           """))}</annotation>
           """;
}
